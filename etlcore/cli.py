"""The ``etl`` command line: run and validate pipelines, list plugins.

Exit codes: 0 success, 1 the run failed, 2 a configuration or usage error, 130 stopped by
the user (Ctrl-C) after the last committed batch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from etlcore import __version__
from etlcore.config import ConfigError, load_pipeline
from etlcore.contract import RunOptions, StreamCounts
from etlcore.logs import LogFormat, configure_logging, default_format
from etlcore.plugins import PluginLoadError, PluginRegistry
from etlcore.runner import EXIT_CONFIG, Runner, RunResult, StopSignal
from etlcore.secrets import mask_known_secrets

app = typer.Typer(
    name="etl",
    help="Run YAML pipelines of source, transform, enrich and sink plugins.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold secrets
)
log = logging.getLogger("etlcore.cli")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PipelineArg = Annotated[Path, typer.Argument(help="The pipeline YAML file.", show_default=False)]


def _day_option(help: str) -> Any:
    return typer.Option(formats=["%Y-%m-%d"], show_default=False, help=help)


SinceOption = Annotated[
    dt.datetime | None,
    _day_option(
        "First day to extract (YYYY-MM-DD), for a backfill; default: where the last run "
        "stopped, or each source's first-run window."
    ),
]
UntilOption = Annotated[
    dt.datetime | None,
    _day_option("Last day to extract (YYYY-MM-DD); default: the latest a source can give."),
]


def _version(value: bool) -> None:
    if value:
        out.print(f"etl (etlcore) {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """etl: YAML pipelines of pluggy plugins."""


def _registry() -> PluginRegistry:
    try:
        return PluginRegistry.load()
    except PluginLoadError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from None


def _config_failure(exc: ConfigError, log_format: LogFormat | None) -> typer.Exit:
    """Config errors print as ``file:line:col`` lines, or JSON when ``--log-format json``."""
    if log_format == "json":
        issues = [vars(issue) for issue in exc.issues]
        print(
            json.dumps({"level": "error", "event": "config_error", "issues": issues}),
            file=sys.stderr,
        )
    else:
        err.print(f"[bold red]{exc.args[0].splitlines()[0]}[/]")
        for issue in exc.issues:
            err.print(str(issue), markup=False)
    return typer.Exit(EXIT_CONFIG)


@app.command()
def validate(
    pipeline: PipelineArg,
    log_format: Annotated[LogFormat | None, typer.Option(help="text or json.")] = None,
) -> None:
    """Check a pipeline without running it: YAML, schemas, plugins, references. No network."""
    configure_logging(log_format or default_format())
    registry = _registry()
    try:
        loaded = load_pipeline(pipeline, registry)
        runner = Runner(loaded, RunOptions(dry_run=True))
    except ConfigError as exc:
        raise _config_failure(exc, log_format) from None
    enabled = [step for step in loaded.steps if step.enabled]
    skipped = [step.name for step in loaded.steps if not step.enabled]
    message = (
        f"{pipeline}: valid — pipeline {loaded.name!r}, {len(enabled)} step(s), "
        f"streams: {', '.join(sorted(runner.streams)) or 'none'}"
    )
    if skipped:
        message += f"; skipped by `when`: {', '.join(skipped)}"
    out.print(message, markup=False)


@app.command()
def run(
    pipeline: PipelineArg,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="Only sources emitting this stream (or step name)."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Ignore stored watermarks; re-extract from the start window.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Validate and print the plan; read and write nothing.")
    ] = False,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="text or json (default: text on a terminal).")
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Run a pipeline: extract, transform, enrich, validate and load, batch by batch."""
    fmt = log_format or default_format()
    configure_logging(fmt, verbose=verbose)
    options = RunOptions(
        since=since.date() if since else None,
        until=until.date() if until else None,
        full_refresh=full_refresh,
        dry_run=dry_run,
        select=tuple(select or ()),
    )
    if options.since and options.until and options.since > options.until:
        err.print(f"[bold red]error:[/] --since {options.since} is after --until {options.until}")
        raise typer.Exit(EXIT_CONFIG)
    registry = _registry()
    try:
        runner = Runner(load_pipeline(pipeline, registry), options)
    except ConfigError as exc:
        raise _config_failure(exc, log_format) from None
    if dry_run:
        _print_plan(runner.plan(), fmt)
        return
    show_progress = fmt == "text" and not no_progress and sys.stderr.isatty()
    with _stop_on_signals(runner.stop), _progress(show_progress) as on_progress:
        runner.on_progress = on_progress
        result = runner.run()
    _print_summary(result, fmt)
    raise typer.Exit(result.exit_code)


@contextmanager
def _stop_on_signals(stop: StopSignal) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop after the batch in flight. Second: abort at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop():
            raise KeyboardInterrupt
        stop.set()
        log.warning("stopping after the current batch commits (Ctrl-C again to abort it)")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[stream]:<20}"),
        TextColumn("{task.fields[figures]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:

        def update(stream: str, counts: StreamCounts) -> None:
            if stream not in tasks:
                tasks[stream] = progress.add_task("", total=None, stream=stream, figures="")
            figures = f"{counts.loaded:>9,} loaded  {counts.quarantined:>6,} quarantined"
            progress.update(tasks[stream], completed=counts.extracted, figures=figures)

        yield update


def _print_plan(plan: list[dict[str, Any]], fmt: LogFormat) -> None:
    text = json.dumps(
        {"dry_run": True, "steps": plan}, indent=None if fmt == "json" else 2, default=str
    )
    out.print(mask_known_secrets(text), markup=False)


def _print_summary(result: RunResult, fmt: LogFormat) -> None:
    run = result.run
    if fmt == "json":
        summary = {
            "event": "run_summary",
            "run_id": run.run_id,
            "pipeline": run.pipeline,
            "status": run.status,
            "exit_code": result.exit_code,
            "requests": run.requests,
            "duration_seconds": round(result.duration_seconds, 3),
            "streams": {name: vars(counts) for name, counts in run.counts.items()},
            "error": run.error,
        }
        print(mask_known_secrets(json.dumps(summary, default=str)))
        return
    table = Table(title=f"run {run.run_id} — {run.status}", title_justify="left")
    table.add_column("stream")
    for column in ("extracted", "loaded", "quarantined", "inserted", "updated", "unchanged"):
        table.add_column(column, justify="right")
    for name, counts in sorted(run.counts.items()):
        table.add_row(
            name,
            *(
                f"{getattr(counts, c):,}"
                for c in ("extracted", "loaded", "quarantined", "inserted", "updated", "unchanged")
            ),
        )
    out.print(table)
    out.print(f"requests: {run.requests:,}   duration: {result.duration_seconds:.1f} s")
    if run.error:
        err.print(f"[bold red]error:[/] {mask_known_secrets(run.error)}", markup=True)


def _primary_sink(pipeline: Path) -> Any:
    registry = _registry()
    try:
        loaded = load_pipeline(pipeline, registry)
    except ConfigError as exc:
        raise _config_failure(exc, None) from None
    step = loaded.enabled("sink")[0]
    assert step.plugin_class is not None
    return loaded.name, step.plugin_class(step.config)


def _print_rows(
    rows: list[dict[str, Any]], columns: list[str], title: str, as_json: bool, empty: str
) -> None:
    if as_json:
        print(mask_known_secrets(json.dumps(rows, default=str, indent=2)))
        return
    if not rows:
        out.print(empty, markup=False)
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        if column in _FREE_TEXT:
            table.add_column(column, overflow="fold", ratio=1)
        else:  # ids, times and counts are read whole or not at all
            table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    # Piped into a file or a pager there is no terminal width to respect: do not cut ids.
    console = out if out.is_terminal else Console(highlight=False, width=max(out.width, 160))
    console.print(table)


_FREE_TEXT = frozenset({"error", "record"})


def _took(row: Mapping[str, Any]) -> str:
    started, finished = row.get("started_at"), row.get("finished_at")
    if not isinstance(started, dt.datetime) or not isinstance(finished, dt.datetime):
        return ""
    seconds = (finished - started).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return mask_known_secrets(str(value))


def _read_history(sink: Any, method: str, **kwargs: Any) -> list[dict[str, Any]]:
    try:
        rows: list[dict[str, Any]] = getattr(sink, method)(**kwargs)
    except NotImplementedError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from None
    except Exception as exc:
        err.print(f"[bold red]error:[/] {mask_known_secrets(str(exc))}")
        raise typer.Exit(1) from None
    finally:
        sink.close()
    return rows


@app.command()
def runs(
    pipeline: PipelineArg,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show the last runs of a pipeline, as recorded by its primary sink."""
    name, sink = _primary_sink(pipeline)
    rows = _read_history(sink, "recent_runs", pipeline=name, limit=limit)
    for row in rows:
        counts = row.get("counts") or {}
        row["loaded"] = sum(c.get("loaded", 0) for c in counts.values())
        row["quarantined"] = sum(c.get("quarantined", 0) for c in counts.values())
        if not as_json:
            row["took"] = _took(row)
    columns = [
        "run_id",
        "status",
        "started_at",
        "took",
        "loaded",
        "quarantined",
        "requests",
        "error",
    ]
    _print_rows(rows, columns, f"runs of {name}", as_json, f"{name}: no runs recorded yet")


@app.command()
def quarantine(
    pipeline: PipelineArg,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run's records.")] = None,
    limit: Annotated[int, typer.Option(help="How many records, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show quarantined records: the record, why it failed, which step and run."""
    name, sink = _primary_sink(pipeline)
    rows = _read_history(sink, "quarantined", pipeline=name, run_id=run_id, limit=limit)
    columns = ["created_at", "run_id", "step", "stream", "error", "record"]
    nothing = f"{name}: nothing quarantined" + (f" in run {run_id}" if run_id else "")
    _print_rows(rows, columns, f"quarantined records of {name}", as_json, nothing)


@app.command("plugins")
def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List installed plugins, what each registers, and broken ones with their error."""
    registry = _registry()
    entries = []
    for info in registry.plugins:
        entry = info.as_dict()
        entry["registers"] = {
            kind: [_describe_class(registry.get(kind, name)) for name in names]
            for kind, names in info.registers.items()
        }
        entries.append(entry)
    if as_json:
        print(json.dumps(entries, indent=2))
        return
    table = Table(title="etl plugins")
    for column in ("plugin", "distribution", "version", "registers", "status"):
        table.add_column(column)
    for entry in entries:
        registers = "\n".join(
            f"{kind}: {', '.join(item['name'] for item in items)}"
            for kind, items in entry["registers"].items()
        )
        status = f"[red]broken: {entry['error']}[/]" if entry["broken"] else "[green]ok[/]"
        table.add_row(
            entry["name"], entry["distribution"] or "", entry["version"] or "", registers, status
        )
    out.print(table)


def _describe_class(plugin_class: Any) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": plugin_class.name,
        "description": plugin_class.description or (plugin_class.__doc__ or "").strip(),
    }
    if hasattr(plugin_class, "config_schema"):
        described["config_schema"] = plugin_class.config_schema
    return described


@app.command("new-plugin")
def new_plugin_command(
    name: Annotated[str, typer.Argument(help="The plugin's name in pipelines, e.g. acme.weather.")],
    kind: Annotated[
        str, typer.Option("--kind", help="source, transform, enricher or sink.", show_default=False)
    ],
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to create the project folder.")
    ] = Path("."),
) -> None:
    """Write a new plugin distribution: it installs with pip and passes its own tests."""
    from etlcore.scaffold import ScaffoldError, new_plugin

    try:
        target = new_plugin(name, kind, directory)
    except ScaffoldError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        raise typer.Exit(EXIT_CONFIG) from None
    out.print(f"created {target}", markup=False)
    out.print(f"next: cd {target} && pip install -e '.[test]' && pytest", markup=False)


if __name__ == "__main__":  # pragma: no cover
    app()

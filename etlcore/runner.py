"""The runner: batches flow source → transforms → enrichers → validation → sinks.

One batch is one commit unit: its valid records, its quarantined records, the source's new
watermark and the run record go to each sink in one transaction. Memory holds one batch at a
time, whatever the size of the run. A stop request (Ctrl-C) is honoured between batches.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etlcore.config import ConfigError, ConfigIssue, Pipeline, Step, load_pipeline
from etlcore.contract import (
    Batch,
    CommitUnit,
    Enricher,
    Plugin,
    QuarantinedRecord,
    Record,
    RunOptions,
    RunRecord,
    Sink,
    Source,
    StepContext,
    Stream,
    StreamCounts,
    Transform,
    View,
)
from etlcore.http import HttpClient
from etlcore.plugins import PluginRegistry
from etlcore.records import RecordValidator, jsonable
from etlcore.secrets import mask_known_secrets

log = logging.getLogger("etlcore.runner")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130

ProgressCallback = Callable[[str, StreamCounts], None]


@dataclass
class RunResult:
    """The outcome of :func:`run_pipeline`."""

    run: RunRecord
    exit_code: int
    duration_seconds: float = 0.0
    plan: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.exit_code == EXIT_OK


class StopSignal:
    """Set once the user asked to stop; the runner finishes the current batch first."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


class _RequestCounter:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


def run_pipeline(
    path: str | Path,
    options: RunOptions | None = None,
    *,
    registry: PluginRegistry | None = None,
    environ: Mapping[str, str] | None = None,
    stop: StopSignal | None = None,
    on_progress: ProgressCallback | None = None,
) -> RunResult:
    """Load, validate and run the pipeline at ``path``.

    Raises :class:`~etlcore.config.ConfigError` (exit code 2) when the pipeline is invalid;
    a run that starts returns a :class:`RunResult` whatever happens after.
    """
    registry = registry or PluginRegistry.load()
    pipeline = load_pipeline(path, registry, environ=environ)
    return Runner(pipeline, options or RunOptions(), stop=stop, on_progress=on_progress).run()


class Runner:
    """Runs one validated :class:`Pipeline` once."""

    def __init__(
        self,
        pipeline: Pipeline,
        options: RunOptions,
        *,
        stop: StopSignal | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.options = options
        self.stop = stop or StopSignal()
        self.on_progress = on_progress
        self.requests = _RequestCounter()
        self.instances: dict[str, Plugin] = {}
        for step in pipeline.steps:
            if step.enabled and step.plugin_class is not None:
                self.instances[step.name] = self._instantiate(step)
        self.streams = self._collect_streams()
        self.views = self._collect_views()
        self.validators = {name: RecordValidator(s) for name, s in self.streams.items()}
        self.selected = self._select_sources()
        self.sinks: list[Sink] = [self._plugin(s, Sink) for s in pipeline.enabled("sink")]
        self.run_record = RunRecord(
            run_id=_new_run_id(),
            pipeline=pipeline.name,
            started_at=dt.datetime.now(dt.UTC),
            options=_describe_options(options),
        )

    # -- building ---------------------------------------------------------------------------

    def _instantiate(self, step: Step) -> Plugin:
        assert step.plugin_class is not None
        try:
            instance: Plugin = step.plugin_class(step.config)
        except Exception as exc:  # a plugin rejecting its (schema-valid) config
            message = f"{step.plugin}: {mask_known_secrets(str(exc))}"
            raise self._step_error(step, message) from None
        return instance

    def _step_error(self, step: Step, message: str, hint: str = "") -> ConfigError:
        key = f"{step.section}[{step.index}]"
        return ConfigError(
            [ConfigIssue(self.pipeline.path, step.line, step.column, key, message, hint)]
        )

    def _plugin(self, step: Step, kind: type[Any]) -> Any:
        instance = self.instances[step.name]
        assert isinstance(instance, kind)
        return instance

    def _steps_emitting_streams(self) -> list[Step]:
        return [
            step
            for step in self.pipeline.steps
            if step.enabled and step.kind in ("source", "transform", "enricher")
        ]

    def _collect_streams(self) -> dict[str, Stream]:
        streams: dict[str, Stream] = {}
        for step in self._steps_emitting_streams():
            for stream in self.instances[step.name].streams():
                if stream.name in streams and streams[stream.name] != stream:
                    raise self._step_error(
                        step,
                        f"stream {stream.name!r} is declared differently by another step",
                        "give one of the streams another name",
                    )
                streams[stream.name] = stream
        return streams

    def _collect_views(self) -> list[View]:
        views: list[View] = []
        for step in self.pipeline.steps:
            if step.enabled and step.name in self.instances:
                views.extend(self.instances[step.name].views())
        return views

    def _select_sources(self) -> list[Step]:
        sources = self.pipeline.enabled("source")
        if not self.options.select:
            return sources
        known_steps = {step.name for step in sources}
        unknown = [
            name
            for name in self.options.select
            if name not in known_steps and name not in self.streams
        ]
        if unknown:
            raise ConfigError(
                [
                    ConfigIssue(
                        self.pipeline.path,
                        1,
                        1,
                        "--select",
                        f"unknown stream or source step: {', '.join(unknown)}",
                        "choose from: " + ", ".join(sorted(known_steps | set(self.streams))),
                    )
                ]
            )
        chosen = set(self.options.select)
        return [
            step
            for step in sources
            if step.name in chosen
            or any(s.name in chosen for s in self.instances[step.name].streams())
        ]

    # -- running ----------------------------------------------------------------------------

    def plan(self) -> list[dict[str, Any]]:
        """What a run would do, without touching any network or database (``--dry-run``)."""
        return [
            {
                "step": step.name,
                "kind": step.kind,
                "plugin": step.plugin,
                "enabled": step.enabled,
                "selected": step.kind != "source" or step in self.selected,
                "config": {
                    key: str(value) if _is_secret(value) else value
                    for key, value in step.config.items()
                },
                "streams": [s.name for s in self.instances[step.name].streams()]
                if step.name in self.instances
                else [],
            }
            for step in self.pipeline.steps
        ]

    def run(self) -> RunResult:
        started = time.monotonic()
        run = self.run_record
        if self.options.dry_run:
            run.status = "succeeded"
            run.finished_at = dt.datetime.now(dt.UTC)
            return RunResult(run, EXIT_OK, time.monotonic() - started, self.plan())
        opened: list[Sink] = []
        exit_code = EXIT_OK
        try:
            for sink in self.sinks:
                sink.open(self.pipeline.name, list(self.streams.values()), self.views)
                opened.append(sink)
            state = {} if self.options.full_refresh else opened[0].read_state(self.pipeline.name)
            for sink in opened:
                sink.start_run(run)
            log.info(
                "run %s of pipeline %s started",
                run.run_id,
                self.pipeline.name,
                extra={"run_id": run.run_id, "pipeline": self.pipeline.name},
            )
            failures: list[str] = []
            for step in self.selected:
                if self.stop():
                    break
                try:
                    self._run_source(step, state.get(step.name))
                except Exception as exc:
                    # One source down (APOD has had multi-day outages) must not hold back the
                    # others: what it committed stays, its watermark stays where it was.
                    failure = mask_known_secrets(f"{step.name}: {type(exc).__name__}: {exc}")
                    log.error("source step failed, going on with the others: %s", failure)
                    failures.append(failure)
            if self.stop():
                run.status, exit_code = "interrupted", EXIT_INTERRUPTED
                run.error = "stopped by the user after a committed batch"
            elif failures:
                run.status, exit_code = "failed", EXIT_FAILED
                run.error = "; ".join(failures)
            else:
                run.status = "succeeded"
        except KeyboardInterrupt:
            run.status, exit_code = "interrupted", EXIT_INTERRUPTED
            run.error = "interrupted; the batch in flight was rolled back"
        except ConfigError:
            raise
        except Exception as exc:
            run.status, exit_code = "failed", EXIT_FAILED
            run.error = mask_known_secrets(f"{type(exc).__name__}: {exc}")
            log.error("run failed: %s", run.error, exc_info=log.isEnabledFor(logging.DEBUG))
        finally:
            run.finished_at = dt.datetime.now(dt.UTC)
            run.requests = self.requests.count
            self._finish(opened, run)
        if run.status == "failed":
            exit_code = EXIT_FAILED
        return RunResult(run, exit_code, time.monotonic() - started)

    def _finish(self, opened: Sequence[Sink], run: RunRecord) -> None:
        for sink in opened:
            try:
                sink.finish_run(run)
            except Exception as exc:
                log.error("could not record the end of the run: %s", mask_known_secrets(str(exc)))
                if run.status == "succeeded":
                    run.status, run.error = "failed", f"finish_run failed: {exc}"
        for step in self.pipeline.enabled("enricher"):
            self._close(self.instances[step.name])
        for sink in self.sinks:
            self._close(sink)

    @staticmethod
    def _close(plugin: Any) -> None:
        try:
            plugin.close()
        except Exception as exc:
            log.warning("closing %s failed: %s", plugin.name, mask_known_secrets(str(exc)))

    def context(self, step: Step) -> StepContext:
        primary = self.sinks[0] if self.sinks else None

        def http_client(base_url: str, **kwargs: Any) -> HttpClient:
            own = kwargs.pop("on_request", None)

            def on_request() -> None:
                self.requests.add()
                if own is not None:
                    own()

            return HttpClient(base_url, on_request=on_request, **kwargs)

        def lookup(
            stream: str, keys: Sequence[tuple[Any, ...]], columns: Sequence[str]
        ) -> dict[tuple[Any, ...], Record]:
            return primary.lookup(stream, keys, columns) if primary and keys else {}

        return StepContext(
            pipeline=self.pipeline.name,
            run_id=self.run_record.run_id,
            step=step.name,
            options=self.options,
            batch_size=self.pipeline.batch_size,
            log=logging.getLogger(f"etlcore.step.{step.name}"),
            stop_requested=self.stop,
            http_client=http_client,
            lookup=lookup,
        )

    def _run_source(self, step: Step, state: Mapping[str, Any] | None) -> None:
        source: Source = self._plugin(step, Source)
        batches = source.extract(self.context(step), state)
        try:
            for batch in batches:
                self._process(step, batch)
                if self.stop():
                    log.info("stop requested: stopping after the batch just committed")
                    break
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def _process(self, step: Step, batch: Batch) -> None:
        for transform_step in self.pipeline.enabled("transform"):
            transform: Transform = self._plugin(transform_step, Transform)
            batch = transform.transform(batch, self.context(transform_step))
        for enricher_step in self.pipeline.enabled("enricher"):
            enricher: Enricher = self._plugin(enricher_step, Enricher)
            batch = enricher.enrich(batch, self.context(enricher_step))
        counts = {name: dataclasses.replace(c) for name, c in self.run_record.counts.items()}
        valid: dict[str, list[Record]] = {}
        quarantined: list[QuarantinedRecord] = []
        for stream, records in batch.records.items():
            figures = counts.setdefault(stream, StreamCounts())
            figures.extracted += len(records)
            validator = self.validators.get(stream)
            good: list[Record] = []
            for record in records:
                problems = (
                    validator.problems(record)
                    if validator
                    else [f"stream {stream!r} is not declared by any step of the pipeline"]
                )
                if problems:
                    quarantined.append(
                        QuarantinedRecord(step.name, stream, jsonable(record), "; ".join(problems))
                    )
                else:
                    good.append(record)
            figures.loaded += len(good)
            figures.quarantined += len(records) - len(good)
            if good:
                valid[stream] = good
        unit = CommitUnit(
            run=dataclasses.replace(self.run_record, counts=counts, requests=self.requests.count),
            records=valid,
            quarantined=quarantined,
            state={step.name: batch.state} if batch.state is not None else None,
        )
        for index, sink in enumerate(self.sinks):
            written = sink.write(unit)
            if index == 0:
                for stream, upserts in written.items():
                    figures = counts.setdefault(stream, StreamCounts())
                    figures.inserted += upserts.inserted
                    figures.updated += upserts.updated
                    figures.unchanged += upserts.unchanged
        self.run_record.counts = counts
        self.run_record.requests = self.requests.count
        if quarantined:
            log.warning(
                "%d record(s) quarantined in this batch; first: %s: %s",
                len(quarantined),
                quarantined[0].stream,
                quarantined[0].error,
            )
        if self.on_progress:
            for stream in batch.records:
                self.on_progress(stream, counts[stream])


def _is_secret(value: Any) -> bool:
    from etlcore.secrets import Secret

    return isinstance(value, Secret)


def _new_run_id() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _describe_options(options: RunOptions) -> dict[str, Any]:
    return {
        "since": options.since.isoformat() if options.since else None,
        "until": options.until.isoformat() if options.until else None,
        "full_refresh": options.full_refresh,
        "select": list(options.select),
    }

"""The runner: batches commit whole or not at all, and every record is accounted for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from etlcore.config import ConfigError, load_pipeline
from etlcore.contract import RunOptions, StreamCounts
from etlcore.plugins import PluginRegistry
from etlcore.runner import Runner, StopSignal
from tests.engine.toy_plugins import STORES

PIPELINE = """\
name: toy
batch_size: {batch_size}
sources:
  - plugin: toy.count
    name: numbers
{source}
transforms:
  - plugin: toy.explode
{transform}
sinks:
  - plugin: toy.memory
    store: main
{sink}
"""


def make_runner(
    registry: PluginRegistry,
    *,
    batch_size: int = 10,
    source: str = "    count: 100",
    transform: str = "",
    sink: str = "",
    options: RunOptions | None = None,
    stop: StopSignal | None = None,
) -> Runner:
    text = PIPELINE.format(batch_size=batch_size, source=source, transform=transform, sink=sink)
    pipeline = load_pipeline("toy.yaml", registry, text=text, environ={})
    return Runner(pipeline, options or RunOptions(), stop=stop)


def loaded_numbers() -> list[int]:
    return sorted(key[0] for key in STORES["main"].tables.get("numbers", {}))


def test_a_run_loads_everything_and_commits_the_watermark(registry: PluginRegistry) -> None:
    result = make_runner(registry).run()
    assert result.exit_code == 0 and result.run.status == "succeeded"
    assert loaded_numbers() == list(range(1, 101))
    assert STORES["main"].state["toy"]["numbers"] == {"last": 100}
    counts = result.run.counts["numbers"]
    assert (counts.extracted, counts.loaded, counts.quarantined, counts.inserted) == (
        100,
        100,
        0,
        100,
    )
    assert STORES["main"].runs[result.run.run_id].status == "succeeded"
    assert STORES["main"].writes == 10  # one commit unit per batch


def test_a_second_run_resumes_from_the_watermark(registry: PluginRegistry) -> None:
    make_runner(registry).run()
    second = make_runner(registry, source="    count: 120").run()
    assert second.run.counts["numbers"].extracted == 20
    assert loaded_numbers() == list(range(1, 121))


def test_full_refresh_ignores_the_watermark_and_duplicates_nothing(
    registry: PluginRegistry,
) -> None:
    make_runner(registry).run()
    again = make_runner(registry, options=RunOptions(full_refresh=True)).run()
    counts = again.run.counts["numbers"]
    assert (counts.extracted, counts.inserted, counts.unchanged) == (100, 0, 100)
    assert loaded_numbers() == list(range(1, 101))


def test_records_in_equal_loaded_plus_quarantined(registry: PluginRegistry) -> None:
    result = make_runner(registry, source="    count: 100\n    bad_every: 7").run()
    counts = result.run.counts["numbers"]
    assert counts.extracted == 100
    assert counts.quarantined == 14
    assert counts.loaded + counts.quarantined == counts.extracted
    assert len(loaded_numbers()) == counts.loaded
    quarantined = STORES["main"].quarantine
    assert len(quarantined) == 14
    assert {q.record["n"] for q in quarantined} == set(range(7, 101, 7))
    assert all(q.error == "label: expected string, got int" for q in quarantined)
    assert all(q.step == "numbers" and q.stream == "numbers" for q in quarantined)


def test_a_failure_inside_a_batch_commits_nothing_of_that_batch(
    registry: PluginRegistry,
) -> None:
    result = make_runner(registry, transform="    explode_at: 55").run()
    assert result.exit_code == 1 and result.run.status == "failed"
    assert "transform exploded at n=55" in (result.run.error or "")
    assert loaded_numbers() == list(range(1, 51))  # batches 1..5 whole, batch 6 not at all
    assert STORES["main"].state["toy"]["numbers"] == {"last": 50}
    assert STORES["main"].runs[result.run.run_id].status == "failed"
    retry = make_runner(registry).run()  # a re-run picks up exactly where the failure was
    assert retry.run.counts["numbers"].extracted == 50
    assert loaded_numbers() == list(range(1, 101))


def test_a_sink_failure_leaves_earlier_units_and_no_partial_one(
    registry: PluginRegistry,
) -> None:
    result = make_runner(registry, sink="    fail_on_write: 3").run()
    assert result.exit_code == 1
    assert loaded_numbers() == list(range(1, 21))
    assert STORES["main"].state["toy"]["numbers"] == {"last": 20}


def test_a_source_failure_is_a_failed_run(registry: PluginRegistry) -> None:
    result = make_runner(registry, source="    count: 100\n    fail_at: 35").run()
    assert result.exit_code == 1
    assert "source failed at n=35" in (result.run.error or "")
    assert loaded_numbers() == list(range(1, 31))


def test_stop_request_finishes_the_batch_in_flight_then_stops(
    registry: PluginRegistry,
) -> None:
    stop = StopSignal()
    runner = make_runner(registry, stop=stop)

    def stop_after_second_batch(stream: str, counts: StreamCounts) -> None:
        if counts.loaded >= 20:
            stop.set()

    runner.on_progress = stop_after_second_batch
    result = runner.run()
    assert result.exit_code == 130 and result.run.status == "interrupted"
    assert loaded_numbers() == list(range(1, 21))
    assert STORES["main"].state["toy"]["numbers"] == {"last": 20}


def test_select_unknown_stream_is_a_usage_error(registry: PluginRegistry) -> None:
    with pytest.raises(ConfigError) as caught:
        make_runner(registry, options=RunOptions(select=("nope",)))
    assert "unknown stream or source step: nope" in str(caught.value)
    assert "numbers" in caught.value.issues[0].hint


def test_select_by_stream_runs_the_source(registry: PluginRegistry) -> None:
    result = make_runner(registry, options=RunOptions(select=("numbers",))).run()
    assert result.run.counts["numbers"].loaded == 100


def test_dry_run_touches_no_sink(registry: PluginRegistry) -> None:
    result = make_runner(registry, options=RunOptions(dry_run=True)).run()
    assert result.exit_code == 0
    assert "main" not in STORES
    assert [step["step"] for step in result.plan] == ["numbers", "toy_explode", "toy_memory"]


FLAT_MEMORY_SCRIPT = """
import resource, sys
from etlcore.config import load_pipeline
from etlcore.contract import RunOptions
from etlcore.plugins import PluginInfo, PluginRegistry
from etlcore.runner import Runner
from tests.engine import toy_plugins
registry = PluginRegistry.load(entry_points_=False)
registry.add_module(toy_plugins, PluginInfo("toy"))
text = '''name: flat
batch_size: 5000
sources: [{plugin: toy.count, count: %d}]
sinks: [{plugin: toy.null}]
'''
result = Runner(load_pipeline("flat.yaml", registry, text=text % int(sys.argv[1]), environ={}),
                RunOptions()).run()
assert result.exit_code == 0 and toy_plugins.NullSink.loaded == int(sys.argv[1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_stays_flat_for_a_million_records(tmp_path: Path) -> None:
    def peak_kib(records: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", FLAT_MEMORY_SCRIPT, str(records)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[2],
        )
        return int(done.stdout.strip().splitlines()[-1])

    small = peak_kib(50_000)
    large = peak_kib(1_000_000)
    # 20x the records; a runner that accumulated them would need hundreds of MB more.
    assert large - small < 40 * 1024, (small, large)


def test_run_result_counts_are_json_serialisable(registry: PluginRegistry) -> None:
    result = make_runner(registry).run()
    json.dumps({k: vars(v) for k, v in result.run.counts.items()})


def test_a_failing_source_does_not_hold_back_the_others(registry: PluginRegistry) -> None:
    text = """\
name: toy
batch_size: 10
sources:
  - plugin: toy.count
    name: broken
    count: 100
    fail_at: 15
  - plugin: toy.count
    name: healthy
    count: 40
    stream: others
sinks:
  - plugin: toy.memory
    store: main
"""
    result = Runner(load_pipeline("toy.yaml", registry, text=text, environ={}), RunOptions()).run()
    assert result.exit_code == 1 and result.run.status == "failed"
    assert result.run.error is not None and result.run.error.startswith("broken: RuntimeError")
    assert loaded_numbers() == list(range(1, 11))
    assert len(STORES["main"].tables["others"]) == 40
    assert STORES["main"].state["toy"] == {"broken": {"last": 10}, "healthy": {"last": 40}}

"""Every kind of mistake in a pipeline file is reported with its exact file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etlcore.config import ConfigError, load_pipeline
from etlcore.plugins import PluginRegistry

VALID = """\
name: toy
batch_size: 100
sources:
  - plugin: toy.count
    count: 10
sinks:
  - plugin: toy.memory
    store: main
"""


def issues_of(registry: PluginRegistry, text: str, environ: dict[str, str] | None = None):
    with pytest.raises(ConfigError) as caught:
        load_pipeline("pipe.yaml", registry, text=text, environ=environ or {})
    return caught.value.issues


def only_issue(registry: PluginRegistry, text: str, environ: dict[str, str] | None = None):
    issues = issues_of(registry, text, environ)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def test_valid_pipeline_loads(registry: PluginRegistry) -> None:
    pipeline = load_pipeline("pipe.yaml", registry, text=VALID, environ={})
    assert pipeline.name == "toy"
    assert [(s.kind, s.name) for s in pipeline.steps] == [
        ("source", "toy_count"),
        ("sink", "toy_memory"),
    ]


def test_yaml_syntax_error(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("count: 10", "count: [10"))
    assert "YAML syntax error" in issue.message
    assert (issue.file, issue.line) == ("pipe.yaml", 6)


def test_tab_indentation(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("    count: 10", "\tcount: 10"))
    assert "tab" in issue.message and "spaces" in issue.hint
    assert (issue.line, issue.column) == (5, 1)


def test_duplicate_key(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("    count: 10\n", "    count: 10\n    count: 11\n"))
    assert issue.message.startswith("duplicate key 'count' (first defined on line 5)")
    assert (issue.line, issue.column) == (6, 5)


def test_unknown_plugin_suggests_closest(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("toy.count", "toy.cuont"))
    assert issue.message == "unknown source plugin 'toy.cuont'"
    assert "did you mean 'toy.count'" in issue.hint
    assert (issue.line, issue.column, issue.key) == (4, 13, "sources[0].plugin")


def test_plugin_of_the_wrong_kind(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("plugin: toy.count", "plugin: toy.memory"))
    assert issue.message == "'toy.memory' is not a source plugin"
    assert "move the step under `sinks:`" in issue.hint


def test_unknown_key_lists_valid_keys(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("count: 10", "count: 10\n    cuont: 3"))
    assert issue.message == "unknown key 'cuont' for 'toy.count'"
    assert "did you mean 'count'" in issue.hint and "bad_every" in issue.hint
    assert (issue.line, issue.column, issue.key) == (6, 5, "sources[0].cuont")


def test_unknown_top_level_key(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("batch_size: 100", "batch_sise: 100"))
    assert issue.message == "unknown key 'batch_sise' for the pipeline"
    assert "batch_size" in issue.hint
    assert (issue.line, issue.column) == (2, 1)


def test_wrong_type(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("count: 10", "count: ten"))
    assert issue.message == "expected integer, got string 'ten'"
    assert (issue.line, issue.column, issue.key) == (5, 12, "sources[0].count")


def test_quoted_number_gets_a_hint(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("batch_size: 100", 'batch_size: "100"'))
    assert "remove the quotes" in issue.hint
    assert (issue.line, issue.column) == (2, 13)


def test_missing_required_key(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("    count: 10\n", "    bad_every: 2\n"))
    assert issue.message == "missing required key 'count' for 'toy.count'"
    assert "How many records" in issue.hint
    assert issue.key == "sources[0]"
    assert issue.line == 4


def test_missing_top_level_sections(registry: PluginRegistry) -> None:
    issues = issues_of(registry, "name: toy\n")
    assert sorted(i.message for i in issues) == [
        "missing required key 'sinks' for the pipeline",
        "missing required key 'sources' for the pipeline",
    ]


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "{}\n"])
def test_empty_pipeline(registry: PluginRegistry, text: str) -> None:
    issue = only_issue(registry, text)
    assert issue.message == "the pipeline is empty"
    assert (issue.line, issue.column) == (1, 1)


def test_pipeline_that_is_not_a_mapping(registry: PluginRegistry) -> None:
    issue = only_issue(registry, "- just\n- a list\n")
    assert "must be a mapping" in issue.message


def test_unresolved_env_var(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("store: main", "store: ${env:ETL_TEST_UNSET}"))
    assert issue.message == "environment variable ETL_TEST_UNSET is not set"
    assert "${env:ETL_TEST_UNSET:-value}" in issue.hint
    assert (issue.line, issue.column, issue.key) == (8, 12, "sinks[0].store")


def test_env_default_and_retyping(registry: PluginRegistry) -> None:
    text = VALID.replace("count: 10", "count: ${env:N:-${env:M:-7}}")
    pipeline = load_pipeline("pipe.yaml", registry, text=text, environ={})
    assert pipeline.steps[0].config["count"] == 7
    pipeline = load_pipeline("pipe.yaml", registry, text=text, environ={"M": "12"})
    assert pipeline.steps[0].config["count"] == 12


def test_unknown_secret(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("count: 10", "count: 10\n    token: ${secret:NOPE}"))
    assert issue.message.startswith("secret NOPE was not found")
    assert (issue.line, issue.column) == (6, 12)


def test_unknown_secret_provider(registry: PluginRegistry) -> None:
    issue = only_issue(registry, "secret_providers: [env, vault]\n" + VALID)
    assert issue.message == "unknown secret provider 'vault'"
    assert (issue.line, issue.column) == (1, 25)


def test_duplicate_step_name(registry: PluginRegistry) -> None:
    text = VALID.replace(
        "    count: 10\n",
        "    count: 10\n    name: numbers\n  - plugin: toy.count\n"
        "    name: numbers\n    count: 5\n",
    )
    issue = only_issue(registry, text)
    assert issue.message == "duplicate step name 'numbers' (first used on line 6)"
    assert (issue.line, issue.column) == (8, 11)


def test_sink_that_does_not_exist(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("plugin: toy.memory", "plugin: toy.memroy"))
    assert issue.message == "unknown sink plugin 'toy.memroy'"
    assert "did you mean 'toy.memory'" in issue.hint
    assert (issue.line, issue.column) == (7, 13)


def test_malformed_reference(registry: PluginRegistry) -> None:
    issue = only_issue(registry, VALID.replace("store: main", "store: ${vault:X}"))
    assert issue.message.startswith("malformed reference")
    assert issue.line == 8


def test_every_problem_is_reported_not_just_the_first(registry: PluginRegistry) -> None:
    text = VALID.replace("count: 10", "count: ten\n    extra: 1").replace("toy.memory", "toy.nope")
    issues = issues_of(registry, text)
    assert [(i.line, i.key) for i in issues] == [
        (5, "sources[0].count"),
        (6, "sources[0].extra"),
        (8, "sinks[0].plugin"),
    ]


def test_disabled_step_does_not_need_its_references(registry: PluginRegistry) -> None:
    text = VALID + (
        "  - plugin: toy.memory\n    name: other\n    when: {env_set: [OTHER_DB]}\n"
        "    store: ${env:OTHER_DB}\n"
    )
    pipeline = load_pipeline("pipe.yaml", registry, text=text, environ={})
    assert [s.enabled for s in pipeline.steps] == [True, True, False]
    pipeline = load_pipeline("pipe.yaml", registry, text=text, environ={"OTHER_DB": "x"})
    assert pipeline.steps[2].enabled and pipeline.steps[2].config["store"] == "x"


def test_no_enabled_sink(registry: PluginRegistry) -> None:
    text = VALID.replace("    store: main", "    when: {env_set: [NOT_SET_ANYWHERE]}")
    issue = only_issue(registry, text)
    assert issue.message.startswith("no sink is enabled")


def test_error_text_has_file_line_col(registry: PluginRegistry, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(VALID.replace("toy.count", "toy.cuont"))
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path, registry, environ={})
    assert f"{path}:4:13: sources[0].plugin: unknown source plugin" in str(caught.value)


# -- random mutations never produce a traceback ------------------------------------------

MUTATIONS = st.sampled_from(
    [
        ("insert", "\t"),
        ("insert", ":"),
        ("insert", "- "),
        ("insert", "["),
        ("insert", "{"),
        ("insert", "'"),
        ("insert", '"'),
        ("insert", "${"),
        ("insert", "${env:X}"),
        ("insert", "&a "),
        ("insert", "*a"),
        ("insert", "!!int "),
        ("insert", "\n  "),
        ("insert", "#"),
        ("delete", 1),
        ("delete", 5),
        ("duplicate_line", 0),
        ("delete_line", 0),
    ]
)


def mutate(text: str, mutation: tuple[str, object], position: int) -> str:
    kind, arg = mutation
    position %= max(len(text), 1)
    if kind == "insert":
        return text[:position] + str(arg) + text[position:]
    if kind == "delete":
        return text[:position] + text[position + int(arg) :]  # type: ignore[call-overload]
    lines = text.splitlines(keepends=True)
    index = position % len(lines)
    if kind == "duplicate_line":
        return "".join(lines[: index + 1] + lines[index:])
    return "".join(lines[:index] + lines[index + 1 :])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(MUTATIONS, st.integers(min_value=0, max_value=10_000)), max_size=3))
def test_mutated_pipelines_are_valid_or_cleanly_rejected(
    registry: PluginRegistry, mutations: list[tuple[tuple[str, object], int]]
) -> None:
    text = VALID
    for mutation, position in mutations:
        text = mutate(text, mutation, position)
    try:
        load_pipeline("pipe.yaml", registry, text=text, environ={})
    except ConfigError as exc:
        assert exc.exit_code == 2
        assert exc.issues
        for issue in exc.issues:
            assert issue.file == "pipe.yaml" and issue.line >= 1 and issue.column >= 1
            assert issue.message

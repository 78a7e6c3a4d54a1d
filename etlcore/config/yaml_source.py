"""YAML loading that remembers where every key and value came from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from etlcore.config.errors import ConfigError, ConfigIssue

PathPart = str | int


@dataclass
class YamlDocument:
    """Plain data (dicts, lists, scalars; dates as ISO strings) plus the positions of its nodes."""

    file: str
    data: Any
    _tree: Any

    def position(self, path: tuple[PathPart, ...], *, of_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``path`` (or of its key, with ``of_key``).

        A path that does not exist (a missing key) resolves to its deepest existing parent.
        """
        node: Any = self._tree
        line, column = 0, 0
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, CommentedMap) and part in node:
                key_pos = node.lc.key(part)
                value_pos = node.lc.value(part)
                line, column = key_pos if (last and of_key) else value_pos
                if isinstance(node[part], CommentedMap | CommentedSeq) and not (last and of_key):
                    line, column = key_pos if not node[part] else _first_position(node[part])
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, column = node.lc.item(part)
                node = node[part]
            else:
                break
        return line + 1, column + 1


def _first_position(node: CommentedMap | CommentedSeq) -> tuple[int, int]:
    if isinstance(node, CommentedMap):
        line, column = node.lc.key(next(iter(node)))
        return line, column
    line, column = node.lc.item(0)
    return line, column


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(value) for value in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.datetime | dt.date):
        return node.isoformat()  # schemas see dates as strings with format "date"
    if isinstance(node, str):
        return str(node)
    return node


def load_yaml(path: Path, display_name: str | None = None) -> YamlDocument:
    """Parse ``path``; a syntax error, a tab or a duplicate key raises :class:`ConfigError`."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, 1, 1, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [ConfigIssue(name, 1, 1, "", f"not UTF-8 text ({exc.reason})", "save it as UTF-8")]
        ) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDocument:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        raise ConfigError([_syntax_issue(exc, name, text)]) from None
    except Exception as exc:  # a value its explicit tag cannot construct, e.g. `!!int abc`
        line, column = _first_tagged_node(text)
        raise ConfigError(
            [
                ConfigIssue(
                    name,
                    line,
                    column,
                    "",
                    f"YAML value error: {exc}",
                    "check explicit tags (!!int, !!float, ...) and their values",
                )
            ]
        ) from None
    return YamlDocument(name, _plain(tree), tree)


def _syntax_issue(exc: MarkedYAMLError, name: str, text: str) -> ConfigIssue:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (exc.problem or "invalid YAML").strip()
    hint = ""
    if "\\t" in problem or "'\\t'" in problem or "\t" in problem:
        problem = "a tab character is used for indentation"
        hint = "YAML indents with spaces only; replace the tab with spaces"
    elif "duplicate key" in problem:
        key = problem.split('"')[1] if '"' in problem else ""
        first = _first_definition(text, key, line - 1, column - 1)
        problem = f"duplicate key {key!r}" + (f" (first defined on line {first})" if first else "")
        hint = "each key may appear once in a mapping; remove or rename one"
        return ConfigIssue(name, line, column, key, problem, hint)
    else:
        context = (exc.context or "").strip()
        if context:
            problem = f"{problem} ({context})"
        hint = "check quoting, brackets and indentation on this line and the one before"
    return ConfigIssue(name, line, column, "", f"YAML syntax error: {problem}", hint)


def _first_definition(text: str, key: str, line: int, column: int) -> int | None:
    """1-based line where ``key`` was first defined at the same column, before ``line``."""
    for number, content in enumerate(text.splitlines()[:line]):
        if content[column:].startswith((f"{key}:", f'"{key}":', f"'{key}':")):
            return number + 1
    return None


def _first_tagged_node(text: str) -> tuple[int, int]:
    """Position of the first explicit tag (``!!int``…): what a construction error blames."""
    for number, line in enumerate(text.splitlines()):
        match = _EXPLICIT_TAG.search(line.split(" #")[0])
        if match:
            return number + 1, match.start() + 1
    return 1, 1


_EXPLICIT_TAG = re.compile(r"(?:^|(?<=[\s\[{,:-]))!!?[\w:/.-]*")

"""Reading rule, knowledge and trust files so that every problem can name its file and line.

PyYAML follows YAML 1.1, which reads ``no`` as false, ``0123`` as 83 and ``1.10`` as 1.1, and keeps
the last of two equal keys without a word. Rule authors are not expected to know this: the
loader here keeps the line and the written text of every value, so that a check that finds a
value of the wrong kind can say what was written and how it was read, and it refuses duplicate
keys and numbers whose meaning changed on the way in.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

_CANONICAL_BOOL = frozenset({"true", "false"})
_SURPRISING_INT = re.compile(r"[-+]?(0[0-9_]+|0[box].*|.*[_:].*)")
_SURPRISING_FLOAT = re.compile(r".*[_:].*")


class RuleFileError(Exception):
    """One problem in a rule or knowledge file: where (file, line, rule) and why."""

    def __init__(self, path: Path, message: str, line: int | None = None, rule: str | None = None):
        self.path, self.message, self.line, self.rule = path, message, line, rule
        super().__init__(self.where() + f": {f'rule {rule}: ' if rule else ''}{message}")

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


class YamlMap(dict[Any, Any]):
    """A mapping that knows the line of itself and of each key, and how each scalar was written."""

    line: int
    lines: dict[Hashable, int]
    written: dict[Hashable, str]

    def line_of(self, key: Hashable) -> int:
        return self.lines.get(key, self.line)


class YamlList(list[Any]):
    """A sequence that knows the line of itself and of each item, and how scalars were written."""

    line: int
    lines: list[int]
    written: dict[int, str]

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built with it


class _Loader(_Base):
    """The safe loader, keeping lines and written text, refusing duplicate keys and odd numbers."""

    def __init__(self, stream: str, path: Path):
        super().__init__(stream)
        self.path = path

    def construct_yaml_map(self, node: yaml.MappingNode) -> Any:  # type: ignore[override]
        mapping = YamlMap()
        mapping.line, mapping.lines, mapping.written = node.start_mark.line + 1, {}, {}
        yield mapping
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                raise RuleFileError(self.path, "a key must be a single word or text", line)
            if key in mapping.lines:
                raise RuleFileError(
                    self.path,
                    f"key {key!r} is written twice (lines {mapping.lines[key]} and {line}); "
                    "YAML would keep only the last",
                    line,
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = value_node.start_mark.line + 1
            self._note(mapping.written, key, value_node)

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Any:  # type: ignore[override]
        sequence = YamlList()
        sequence.line, sequence.lines, sequence.written = node.start_mark.line + 1, [], {}
        yield sequence
        for index, item in enumerate(node.value):
            sequence.append(self.construct_object(item, deep=True))
            sequence.lines.append(item.start_mark.line + 1)
            self._note(sequence.written, index, item)

    def _note(self, written: dict[Any, str], key: Hashable, node: yaml.Node) -> None:
        """Keep the text of a plain scalar that YAML turned into something other than text."""
        if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):  # plain only
            return
        tag, text = node.tag, node.value
        if tag.endswith(":str"):
            return
        written[key] = text
        line = node.start_mark.line + 1
        surprising = (tag.endswith(":int") and _SURPRISING_INT.fullmatch(text)) or (
            tag.endswith(":float") and _SURPRISING_FLOAT.fullmatch(text)
        )
        if surprising:
            raise RuleFileError(
                self.path,
                f"{text} would be read as the number {self.construct_object(node)}; write it "
                "in quotes if it is a code or text, or without leading zeros if it is a number",
                line,
            )


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def load_yaml(path: Path) -> YamlMap:
    """Parse one file; a file must hold a mapping at the top."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFileError(path, f"cannot read: {error}") from None
    loader = _Loader(text, path)
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        raise RuleFileError(path, *_syntax(error)) from None
    except yaml.YAMLError as error:
        raise RuleFileError(path, f"not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if not isinstance(document, YamlMap):
        raise RuleFileError(path, "the file must hold a mapping (key: value lines) at the top", 1)
    return document


def _syntax(error: yaml.MarkedYAMLError) -> tuple[str, int | None]:
    """The message and line of a YAML syntax error; the line where the broken part starts."""
    problem = error.problem or "unreadable"
    if error.problem_mark is not None:
        problem += f" (line {error.problem_mark.line + 1})"
    mark = error.context_mark or error.problem_mark
    context = f"{error.context}: " if error.context else ""
    return f"not valid YAML: {context}{problem}", mark.line + 1 if mark else None


def line_of(container: Any, key: Hashable) -> int | None:
    """The line of ``key`` in a table read by ``load_yaml``, for the author."""
    return container.line_of(key) if isinstance(container, YamlMap) else None


def how_written(container: Any, key: Hashable) -> str | None:
    """How the author wrote a value that YAML did not read as text (``no``, ``1.10``), if so."""
    written = getattr(container, "written", None)
    return written.get(key) if written is not None else None


def is_surprising_bool(text: str | None) -> bool:
    """``yes``, ``no``, ``on``, ``off``: words YAML 1.1 reads as true or false."""
    return text is not None and text.lower() not in _CANONICAL_BOOL

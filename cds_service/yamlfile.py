"""Reading rule and knowledge files, with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class RuleFileError(Exception):
    """A rule or knowledge file that cannot be used, with where and why."""

    def __init__(self, path: Path, message: str, line: int | None = None, rule: str | None = None):
        self.path, self.message, self.line, self.rule = path, message, line, rule
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {f'rule {rule}: ' if rule else ''}{message}")


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse one file with the safe loader; a file must hold a mapping at the top."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuleFileError(path, f"cannot read: {error.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise RuleFileError(path, f"not valid YAML: {error.problem}", line) from None
    if not isinstance(document, dict):
        raise RuleFileError(path, "the file must hold a mapping (key: value lines) at the top")
    return document

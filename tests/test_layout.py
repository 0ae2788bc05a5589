"""The package reads as the flow of a call: each stage imports only from stages before it.

request -> protocol -> prefetch -> facts (through knowledge) -> engine -> ruleset -> cards
-> response, with the entry points (service, app, cli) and the offline tools on top. A module
that imports from a later stage, an import cycle, or two modules of the same name would make
the folders lie about where a piece of the call lives.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cds_service"

STAGES: dict[str, int] = {
    "config": 0,  # settings: read by every stage, imports none
    "kept": 0,  # values kept between calls by content digest: any stage may keep some
    "heap": 0,  # when the garbage collector may run: start-up and reloads pause it
    "observability": 0,  # metrics and structured logs: any stage may report to them
    "protocol": 1,  # CDS Hooks messages, FHIR R4 resources, OperationOutcomes
    "auth": 2,  # who may call: the client's JWT, checked before anything is read
    "prefetch": 3,  # the patient's data: prefetch, the FHIR fallback, the record
    "knowledge": 4,  # the tables facts are read with
    "facts": 5,
    "engine": 6,
    "ruleset": 7,  # rule files compiled for the engine, their cards checked
    "cards": 8,
    "store": 9,  # cards served and the feedback on them
    "service": 10,  # the entry points: one call end to end, HTTP, the command line
    "app": 10,
    "cli": 10,
    "offline": 10,  # the pipeline without HTTP: examples, replay, Bundles
    "__init__": 10,
}
"""Each top-level module or package of ``cds_service`` and its place in the flow."""


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every ``cds_service`` module ``name`` imports, anywhere in the file, with its line."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if name != "__init__" else []
    if not is_package:
        here = here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1] if node.level > 1 else here
            target = [*base, *(node.module.split(".") if node.module else [])]
            for alias in node.names:
                candidate = ".".join([*target, alias.name])
                yield (candidate if _exists(candidate) else ".".join(target)), node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cds_service"):
            target = node.module.split(".")[1:]
            for alias in node.names:
                candidate = ".".join([*target, alias.name])
                yield (candidate if _exists(candidate) else ".".join(target)), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cds_service."):
                    yield alias.name.removeprefix("cds_service."), node.lineno


def _exists(module: str) -> bool:
    path = PACKAGE.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _stage(module: str) -> str:
    return module.split(".")[0] if module else "__init__"


MODULES = dict(_modules())


def test_every_module_belongs_to_a_stage() -> None:
    unplaced = sorted({_stage(m) for m in MODULES} - set(STAGES))
    assert not unplaced, f"place these in STAGES (and the README's module table): {unplaced}"


def _later(module: str, path: Path) -> list[str]:
    """The imports of ``module`` from stages after its own."""
    rank = STAGES[_stage(module)]
    return [
        f"line {line}: {target} ({_stage(target)} comes after {_stage(module)})"
        for target, line in _imports(module, path)
        if STAGES.get(_stage(target), 0) > rank
    ]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_back_up_the_flow(module: str) -> None:
    later = _later(module, MODULES[module])
    assert not later, "\n".join(later)


def test_no_import_cycles() -> None:
    graph = {
        module: {t for t, _ in _imports(module, path) if t in MODULES and t != module}
        for module, path in MODULES.items()
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_no_two_modules_share_a_name() -> None:
    names: dict[str, list[str]] = {}
    for module in MODULES:
        names.setdefault(module.split(".")[-1], []).append(module)
    shared = {name: where for name, where in names.items() if len(where) > 1}
    assert not shared, f"one name, two modules: {shared}"


def test_a_later_import_is_reported(tmp_path: Path) -> None:
    """The check itself: a facts module that imports cards, in any form, is caught."""
    module = tmp_path / "reader.py"
    module.write_text(
        "from ..cards.render import Firing\n"
        "def late():\n    from ..ruleset import loader\n"
        "from cds_service.cards import render\n"
    )
    found = _later("facts.reader", module)
    assert sorted(found) == sorted(
        [
            "line 1: cards.render (cards comes after facts)",
            "line 3: ruleset.loader (ruleset comes after facts)",
            "line 4: cards.render (cards comes after facts)",
        ]
    )

"""The house's boundaries, read from the code's own imports (ARCHITECTURE.md, docs/ARCHITECTURE.md):
core never imports Qt or the command line, the store imports nothing above it, desktop never
opens SQLite or torch itself, and imports between packages point one way."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"core": "conceptcoach", "desktop": "conceptcoach.desktop"}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for folder, package in ROOTS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _area(module: str) -> str:
    """The package a module belongs to: conceptcoach.<pkg>, conceptcoach.desktop, or a top-level module."""
    parts = module.split(".")
    if parts[:2] == ["conceptcoach", "desktop"]:
        return "desktop"
    return parts[1] if len(parts) > 1 else "conceptcoach"


MODULES = _modules()
IMPORTS = {name: _imports(path) for name, path in MODULES.items()}


def test_core_never_imports_qt_or_the_desktop() -> None:
    bad = sorted(f"{n} imports {i}" for n, imps in IMPORTS.items() if not n.startswith("conceptcoach.desktop")
                 for i in imps if i.startswith(("PySide6", "shiboken6", "conceptcoach.desktop"))
                 and not (n == "conceptcoach.cli.main" and i.startswith("conceptcoach.desktop.app")))
    assert bad == []


def test_library_packages_never_import_the_command_line() -> None:
    bad = sorted(f"{n} imports {i}" for n, imps in IMPORTS.items()
                 if not n.startswith(("conceptcoach.cli", "conceptcoach.__main__"))
                 for i in imps if i == "conceptcoach.cli" or i.startswith("conceptcoach.cli."))
    assert bad == []


def test_the_store_imports_nothing_above_it() -> None:
    above = ("conceptcoach.engine", "conceptcoach.concepts", "conceptcoach.study", "conceptcoach.training",
             "conceptcoach.io", "conceptcoach.cli", "conceptcoach.desktop", "torch", "PySide6")
    bad = sorted(f"{n} imports {i}" for n, imps in IMPORTS.items() if n.startswith("conceptcoach.store")
                 for i in imps if any(i == a or i.startswith(a + ".") for a in above))
    assert bad == []


def test_desktop_never_opens_sqlite_or_runs_torch_itself() -> None:
    bad = sorted(f"{n} imports {i}" for n, imps in IMPORTS.items() if n.startswith("conceptcoach.desktop")
                 for i in imps if i.split(".")[0] in ("sqlite3", "sqlite_utils", "torch"))
    assert bad == []


def test_imports_between_packages_point_one_way() -> None:
    """No cycle between packages (engine, store, concepts, study, ...): each package's
    imports of the others, followed transitively, never lead back to it."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, imps in IMPORTS.items():
        a = _area(name)
        for imp in imps:
            if not imp.startswith("conceptcoach"):
                continue
            # 'from conceptcoach.store import games' names a module or a symbol: keep the module part.
            b = _area(imp)
            if b != a and b in {_area(m) for m in MODULES}:
                graph[a].add(b)
    # The entry points sit above everything by design: the CLI and the app call down.
    for top in ("cli", "desktop", "__main__"):
        graph.pop(top, None)
    cycles = []
    for start in list(graph):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert cycles == [], cycles


def test_one_vocabulary_for_phases_and_statuses() -> None:
    """The store validates the strings the core enums stand for (it cannot import them)."""
    from conceptcoach.store.concepts import STATUSES, ConceptStatus
    from conceptcoach.store.sessions import PHASES, TEST_PHASES
    from conceptcoach.study.phases import Phase

    assert set(PHASES) == {p.value for p in Phase if p is not Phase.DONE}
    assert set(TEST_PHASES) == {p.value for p in Phase if p.is_test}
    assert set(STATUSES) == {s.value for s in ConceptStatus}
def test_no_module_is_a_maze() -> None:
    """Small modules named for what they hold: none over 600 lines."""
    long = sorted(f"{n}: {len(p.read_text().splitlines())} lines" for n, p in MODULES.items()
                  if len(p.read_text().splitlines()) > 600)
    assert long == []

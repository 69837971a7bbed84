"""Dependencies point one way (DESIGN.md, Layout): `api → kb ← ingest`, `api → ingest` for
uploads, and `cli` above all three.

The modules are read with `ast`, not imported, so that an import inside a function (or
one that only runs on some path) counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kb", "ingest", "api", "cli")

FORBIDDEN = {
    "kb": {"ingest", "api", "cli"},
    "ingest": {"api", "cli"},
    "api": {"cli"},
    "cli": set(),
}
"""What each package may never import."""

API_FROM_INGEST = {"ingest_upload", "dossier"}
"""All that `api` takes from `ingest`: the upload run (DESIGN.md's `api → ingest` for
uploads) and the transfer dossier's DOCX / Markdown writer, which `GET /api/dossier`
serves. Anything more is a file format or an ingest step leaking into the web layer."""


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str, list[str]]]:
    """(line, module, names taken from it) for every import anywhere in the file under
    `root`; relative imports are resolved against the file's package."""
    here = list(path.relative_to(root).with_suffix("").parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # `.` is the file's package: a/b/c.py and a/b/__init__.py → a.b
                package = here[: len(here) - node.level]
                module = ".".join([*package, *([module] if module else [])])
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return found


def taken_from_ingest(module: str, names: list[str]) -> set[str]:
    """The names of `ingest` an import uses: its submodule, else what it imports."""
    below = module.split(".")[1:2]
    return set(below) or set(names) or {"ingest"}


def violations(package: str, root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / package).rglob("*.py")):
        for line, module, names in imports_of(path, root):
            top, where = module.split(".")[0], f"{path.relative_to(root)}:{line}"
            if top in FORBIDDEN[package]:
                problems.append(f"{where} imports {module}")
            elif package == "api" and top == "ingest" and (
                extra := taken_from_ingest(module, names) - API_FROM_INGEST
            ):
                problems.append(f"{where} takes {', '.join(sorted(extra))} from ingest")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package):
    assert any((ROOT / package).rglob("*.py")), f"no modules under {package}/"
    assert violations(package) == []


def test_the_walk_finds_imports_in_functions_and_relative_ones(tmp_path):
    (tmp_path / "kb" / "sub").mkdir(parents=True)
    files = {
        "kb/__init__.py": "",
        "kb/sub/__init__.py": "from .. import types\n",
        "kb/sub/late.py": "def f():\n    from cli.main import main\n    return main\n",
        "kb/sub/rel.py": "from ..store import Store\nimport api.app\n",
        "api/__init__.py": "from ingest import dossier, parse\nfrom ingest.run import go\n",
    }
    (tmp_path / "api").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert imports_of(tmp_path / "kb/sub/__init__.py", tmp_path) == [(1, "kb", ["types"])]
    assert imports_of(tmp_path / "kb/sub/rel.py", tmp_path)[0] == (1, "kb.store", ["Store"])
    assert violations("kb", tmp_path) == [
        "kb/sub/late.py:2 imports cli.main",
        "kb/sub/rel.py:2 imports api.app",
    ]
    assert violations("api", tmp_path) == [
        "api/__init__.py:1 takes parse from ingest",
        "api/__init__.py:2 takes run from ingest",
    ]

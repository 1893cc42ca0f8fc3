"""Dependencies point one way (DESIGN.md): the data layer never imports the UI or the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files(*parts: str) -> list[Path]:
    out: list[Path] = []
    for part in parts:
        target = ROOT / part
        out.extend([target] if target.is_file() else sorted(target.rglob("*.py")) if target.exists() else [])
    return out


@pytest.mark.parametrize("path", files("panopticum_data"), ids=lambda p: str(p.relative_to(ROOT)))
def test_data_layer_imports_no_ui_and_no_api(path: Path) -> None:
    banned = {"streamlit", "fastapi", "panopticum_ui", "panopticum_api", "views"}
    bad = {name for name in imported_modules(path) if name.split(".")[0] in banned}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", files("app.py", "views"), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_hold_no_sql(path: Path) -> None:
    banned = {"sqlalchemy", "sqlite3", "psycopg2"}
    bad = {name for name in imported_modules(path) if name.split(".")[0] in banned}
    bad |= {
        n
        for n in imported_modules(path)
        if n.startswith(("panopticum_data.services", "panopticum_data.models"))
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_migrations_never_import_models() -> None:
    for path in files("migrations/versions"):
        assert not any(n.startswith("panopticum_data") for n in imported_modules(path)), path.name


def test_scan_sees_the_packages() -> None:
    assert len(files("panopticum_data")) > 10
    assert files("app.py")

"""The page scripts live in views/, not pages/: a folder named pages/ next to app.py switches on
Streamlit's automatic multipage mode, whose first run after a restart can serve a page script
directly (for example /component) without going through app.py and its login gate."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from panopticum_ui import navigation

ROOT = Path(__file__).resolve().parents[2]
VIEWS = sorted((ROOT / "views").glob("*.py"))


def test_there_is_no_pages_folder_next_to_app_py() -> None:
    assert not (ROOT / "pages").exists(), "rename pages/ to views/: see this module's docstring"


def test_every_view_is_registered_and_every_registered_page_exists() -> None:
    registered = {spec.path for spec in navigation.PAGES}
    assert registered == {f"views/{p.name}" for p in VIEWS}


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.name)
def test_views_call_only_panopticum_ui_and_streamlit(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "streamlit", "panopticum_ui"}, path.name


def test_the_secrets_example_shows_every_setting() -> None:
    import re
    from dataclasses import fields

    from panopticum_data.config import Settings

    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    shown = set(re.findall(r"^#? ?(\w+) = ", example, flags=re.MULTILINE))
    assert shown == {f.name for f in fields(Settings)}

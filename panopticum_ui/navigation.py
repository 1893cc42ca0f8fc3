"""The app's pages and who sees them. A page not built yet is simply not listed here.

``who`` is the least a visitor needs: ``"reader"`` (anyone who may read: logged in, or anonymous
when the administrator allows it), ``"login"``, ``"editor"`` or ``"admin"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import Page

from .auth import CurrentUser

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the app's root (where app.py is)
    title: str
    icon: str
    url_path: str
    section: str = "Registry"
    who: str = "reader"
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("views/dashboard.py", "Components", ":material/dashboard:", "dashboard", default=True),
    PageSpec("views/component.py", "Component", ":material/deployed_code:", "component"),
    PageSpec("views/requirements.py", "Requirements", ":material/grid_on:", "requirements", "Sign-off"),
    PageSpec(
        "views/requirement_set.py", "Requirement set", ":material/checklist:", "requirement_set", "Sign-off"
    ),
    PageSpec("views/my_work.py", "Waiting for me", ":material/inbox:", "my_work", "Sign-off", who="login"),
    PageSpec("views/release.py", "Release readiness", ":material/rocket_launch:", "release", "Sign-off"),
    PageSpec(
        "views/compliance.py", "Compliance over time", ":material/trending_up:", "compliance", "Sign-off"
    ),
    PageSpec(
        "views/admin_requirements.py",
        "Requirement sets",
        ":material/rule_settings:",
        "admin_requirements",
        "Admin",
        who="admin",
    ),
    PageSpec("views/edit.py", "Edit", ":material/edit_note:", "edit", "Registry", who="login"),
    PageSpec("views/history.py", "History", ":material/history:", "history", "Registry"),
    PageSpec("views/reference.py", "Reference data", ":material/dataset:", "reference", "Admin", who="admin"),
    # To come (SPEC §4): dependencies, bugs, people, import / export, tech radar, data model,
    # other admin pages.
)


def allowed(spec: PageSpec, user: CurrentUser | None) -> bool:
    if spec.who == "reader":
        return True
    if user is None:
        return False
    return {"login": True, "editor": user.is_editor, "admin": user.is_admin}.get(spec.who, False)


def build(user: CurrentUser | None, *, may_read: bool) -> tuple[Page, bool]:
    """Register every page, and list in the menu those this visitor may open. Call before any login
    gate stops the script, so that a pasted link (``/component?name=...``, ``/reference``) still
    opens its page once the visitor has logged in. Returns the page asked for and whether this
    visitor may open it (the caller stops the run when not)."""
    sections: dict[str, list[Page]] = {}
    allowed_pages: dict[str, bool] = {}
    for spec in PAGES:
        ok = allowed(spec, user)
        allowed_pages[spec.url_path] = ok
        page = st.Page(
            str(ROOT / spec.path),
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.default,
            visibility="visible" if ok else "hidden",  # reachable by URL, refused below
        )
        sections.setdefault(spec.section, []).append(page)
    current = st.navigation(sections, position="sidebar" if may_read else "hidden")
    return current, allowed_pages.get(current.url_path or "dashboard", True)


def requirement(url_path: str) -> str:
    """Who may open the page, in words (for the message shown to others)."""
    spec = next((s for s in PAGES if s.url_path == url_path), None)
    return {"login": "logged-in people", "editor": "editors and admins", "admin": "admins"}.get(
        spec.who if spec else "", "readers"
    )


def page(url_path: str) -> str:
    """A page's script path (relative to app.py), for ``st.page_link`` and ``st.switch_page``."""
    return next(s.path for s in PAGES if s.url_path == url_path)

"""Small reads the web app needs beyond the overview and the component detail.

Each is set-based (one query, or a handful) and returns plain values or DataFrames; none of them
reads a password hash into memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, func, select, union
from sqlalchemy.orm import Session

from .. import models as m
from ..errors import NotFound
from ..services._core import load_actor, owns_component, signs_set
from ..services._util import owned_components
from ._util import frame
from .entities import _person_name


def component_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(m.Component)).scalar_one())


def login_accounts(conn: Connection) -> pd.DataFrame:
    """Active people who may log in with a local password: ``username, first_name, last_name,
    email, access_role``. The hash itself is never selected."""
    p = m.Person
    stmt = (
        select(p.username, p.first_name, p.last_name, p.email, p.access_role)
        .where(p.active.is_(True), p.password_hash.is_not(None))
        .order_by(func.lower(p.username))
    )
    return frame(conn, stmt)


def owner_choices(conn: Connection) -> pd.DataFrame:
    """``username, name`` of everyone holding an owner role on a component's current version."""
    cv, current = m.ComponentVersion, m.Component.current_version_id
    people = union(
        select(cv.maintainer_id.label("person_id")).join(m.Component, current == cv.id),
        select(cv.responsible_qa_id.label("person_id")).join(m.Component, current == cv.id),
        select(m.VersionOwner.person_id).join(m.Component, current == m.VersionOwner.version_id),
    ).subquery()
    stmt = (
        select(m.Person.username, _person_name(m.Person).label("name"))
        .join(people, people.c.person_id == m.Person.id)
        .order_by(func.lower(m.Person.username))
    )
    return frame(conn, stmt)


def current_links(conn: Connection, component_ids: Sequence[int]) -> pd.DataFrame:
    """``component_id, kind, url``: the first URL of each link kind of these components' current
    versions (by position)."""
    ids = [int(i) for i in component_ids]
    if not ids:
        return pd.DataFrame(columns=["component_id", "kind", "url"])
    link = m.VersionLink
    stmt = (
        select(m.Component.id.label("component_id"), link.kind, link.url)
        .join(link, link.version_id == m.Component.current_version_id)
        .where(m.Component.id.in_(ids))
        .order_by(m.Component.id, link.kind, link.position, link.id)
    )
    return frame(conn, stmt).drop_duplicates(["component_id", "kind"]).reset_index(drop=True)


def person_photos(conn: Connection, usernames: Sequence[str]) -> dict[str, bytes]:
    """Photos of these people (by lower-cased username); people without a photo are left out."""
    wanted = sorted({u.lower() for u in usernames if u})
    if not wanted:
        return {}
    stmt = select(m.Person.username, m.Person.photo).where(
        func.lower(m.Person.username).in_(wanted), m.Person.photo.is_not(None)
    )
    return {str(u).lower(): bytes(photo) for u, photo in conn.execute(stmt) if photo is not None}


def may_edit_component(conn: Connection, *, username: str | None, component_id: int) -> bool:
    """Whether this person may change the component: admins and editors always, otherwise its
    owners (the services' rule, ``require_component_write``). False for no or an inactive user."""
    if not username:
        return False
    session = Session(bind=conn)
    try:
        actor = load_actor(session, username)
        return actor.is_editor or owns_component(session, actor, component_id)
    except NotFound:
        return False
    finally:
        session.close()


@dataclass(frozen=True)
class SignOffRights:
    """What a person may do on one set's grids (the services' rules, read for the UI; the services
    check again on every save). ``claim_components``: None means every component (editors, admins)."""

    may_sign: bool
    claim_components: frozenset[int] | None


def sign_off_rights(conn: Connection, *, username: str | None, set_id: int) -> SignOffRights:
    """May this person give verdicts on the set (signer-group member, admin), and on which
    components may they set owner claims (their own; editors and admins: all)?"""
    nothing = SignOffRights(False, frozenset())
    if not username:
        return nothing
    session = Session(bind=conn)
    try:
        actor = load_actor(session, username)
        if actor.is_editor:
            claims: frozenset[int] | None = None
        else:
            all_ids = session.scalars(select(m.Component.id)).all()
            claims = frozenset(owned_components(session, actor, all_ids))
        return SignOffRights(signs_set(session, actor, set_id), claims)
    except NotFound:
        return nothing
    finally:
        session.close()


def owned_component_ids(conn: Connection, username: str | None) -> frozenset[int] | None:
    """The components this person may change: None means every component (editors and admins);
    otherwise those whose current version lists them in an owner role (the services' rule,
    ``require_component_write``). Nothing for no, an unknown or an inactive user. Two queries."""
    if not username:
        return frozenset()
    session = Session(bind=conn)
    try:
        actor = load_actor(session, username)
    except NotFound:
        return frozenset()
    finally:
        session.close()
    if actor.is_editor:
        return None
    cv, current = m.ComponentVersion, m.Component.current_version_id
    direct = (
        select(m.Component.id)
        .join(cv, cv.id == current)
        .where((cv.maintainer_id == actor.person_id) | (cv.responsible_qa_id == actor.person_id))
    )
    listed = (
        select(m.Component.id)
        .join(m.VersionOwner, m.VersionOwner.version_id == current)
        .where(m.VersionOwner.person_id == actor.person_id)
    )
    return frozenset(int(c) for c in conn.execute(union(direct, listed)).scalars())

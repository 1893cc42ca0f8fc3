"""People, groups, passwords, API tokens and the security helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from panopticum_data import security
from panopticum_data import services as svc
from panopticum_data.db import session_scope
from panopticum_data.errors import DuplicateName, InvalidValue, NotFound, PermissionDenied, StaleWrite
from panopticum_data.models import ApiToken, Person
from tests import factories as f
from tests.factories import World, assert_refused


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)
    yield


@pytest.fixture
def world(engine: sa.Engine) -> World:
    return f.world_for(engine)


def _person(engine: sa.Engine, username: str) -> Person:
    with Session(engine) as s:
        person = s.scalar(sa.select(Person).where(Person.username == username))
        assert person is not None
        s.expunge(person)
        return person


# --- security helpers ------------------------------------------------------------------------------------


def test_password_hashing_and_tokens() -> None:
    hashed = security.hash_password("correct horse")
    assert hashed.startswith("$2b$04$") and "correct horse" not in hashed
    assert security.verify_password("correct horse", hashed)
    assert not security.verify_password("wrong horse", hashed)
    assert not security.verify_password("x", None) and not security.verify_password("x", "not a hash")
    long = "ä" * 100  # 200 bytes: beyond bcrypt's 72, every character still counts
    assert security.verify_password(long, security.hash_password(long))
    assert not security.verify_password("ä" * 99 + "a", security.hash_password(long))
    plain, token_hash = security.new_api_token()
    assert plain.startswith("pan_") and len(plain) > 40 and token_hash == security.hash_token(plain)
    assert security.tokens_match(plain, token_hash) and not security.tokens_match(plain + "x", token_hash)
    assert security.new_api_token()[0] != plain


# --- users ---------------------------------------------------------------------------------------------------


def test_add_user_hashes_the_password_and_audits_without_it(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.add_user(
            s,
            actor=svc.SYSTEM,
            username="Dana",
            access_role="editor",
            password="s3cret-pass",
            first_name="Dana",
            department="R&D",
            manager="admin",
            hidden=True,
        )
    dana = _person(engine, "Dana")
    assert dana.password_hash and security.verify_password("s3cret-pass", dana.password_hash)
    assert dana.manager_id == world["admin"].person_id and dana.hidden is True
    evs = f.last_change_set_events(engine)
    assert {e.actor_name for e in evs} == {"system"}
    changes = f.field_changes(evs)
    assert changes["password"] == (None, "(set)") and changes["manager"] == (None, "admin")
    assert changes["department"] == (None, "R&D") and changes["access_role"] == (None, "editor")
    assert all("s3cret" not in (e.new_value or "") and "$2b$" not in (e.new_value or "") for e in evs)
    assert svc.load_actor(Session(engine), "dana").access_role == "editor"


def test_add_user_refuses_bad_input(engine: sa.Engine, world: World) -> None:
    def add(role: str = "admin", **kw: Any) -> Any:
        return lambda s: svc.add_user(s, actor=world[role], **({"username": "new"} | kw))

    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (add("editor"), PermissionDenied, None, None),
        (add(username="OWNER"), DuplicateName, "username", "OWNER"),
        (add(access_role="root"), InvalidValue, "access_role", "root"),
        (add(email="not-an-address"), InvalidValue, "email", "not-an-address"),
        (add(department="Sales"), NotFound, "department", "Sales"),
        (add(manager="ghost"), NotFound, "manager", "ghost"),
        (add(password="pw1"), InvalidValue, "password", "(hidden)"),
    ]
    for call, error, field, value in cases:
        err = assert_refused(engine, call, error, field=field, value=value)
        assert "pw1" not in str(err)  # a password never appears in a message


def test_passwords_roles_and_deactivation(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:  # a person sets their own password
        svc.set_password(s, actor=world["viewer"], person="viewer", password="my own password")
    assert security.verify_password("my own password", _person(engine, "viewer").password_hash)
    (ev,) = f.last_change_set_events(engine)
    assert (ev.field, ev.old_value, ev.new_value) == ("password", None, "(changed)")
    assert_refused(
        engine,
        lambda s: svc.set_password(s, actor=world["editor"], person="viewer", password="their password"),
        PermissionDenied,
    )
    with session_scope(engine) as s:
        svc.set_access_role(s, actor=world["admin"], person="viewer", access_role="editor")
        svc.deactivate_person(s, actor=world["admin"], person=world["other_signer"].person_id or 0)
    assert _person(engine, "viewer").access_role == "editor"
    with Session(engine) as s, pytest.raises(NotFound):
        svc.load_actor(s, "other_signer")  # gone people cannot act
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (
            lambda s: svc.set_access_role(s, actor=world["editor"], person="viewer", access_role="admin"),
            PermissionDenied,
            None,
            None,
        ),
        (
            lambda s: svc.set_access_role(s, actor=world["admin"], person="viewer", access_role="god"),
            InvalidValue,
            "access_role",
            "god",
        ),
        (
            lambda s: svc.set_access_role(s, actor=world["admin"], person="nobody", access_role="viewer"),
            NotFound,
            "person",
            "nobody",
        ),
        (
            lambda s: svc.set_access_role(s, actor=world["admin"], person="admin", access_role="viewer"),
            InvalidValue,
            "access_role",
            "viewer",
        ),  # the last admin
        (
            lambda s: svc.deactivate_person(s, actor=svc.SYSTEM, person="admin"),
            InvalidValue,
            "active",
            "False",
        ),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)


def test_update_person_self_service_and_stale(engine: sa.Engine, world: World) -> None:
    me = _person(engine, "signer")
    with session_scope(engine) as s:
        svc.update_person(
            s,
            actor=world["signer"],
            person_id=me.id,
            expected_row_version=me.row_version,
            changes={"title": "Security lead", "photo": b"\x89PNG..."},
        )
    assert f.field_changes(f.last_change_set_events(engine)) == {
        "title": (None, "Security lead"),
        "photo": (None, "(7 bytes)"),
    }
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (
            lambda s: svc.update_person(
                s,
                actor=world["signer"],
                person_id=me.id,
                expected_row_version=None,
                changes={"access_role": "admin"},
            ),
            PermissionDenied,
            "access_role",
            "admin",
        ),
        (
            lambda s: svc.update_person(
                s,
                actor=world["signer"],
                person_id=world["viewer"].person_id or 0,
                expected_row_version=None,
                changes={"title": "x"},
            ),
            PermissionDenied,
            "title",
            "x",
        ),
        (
            lambda s: svc.update_person(
                s,
                actor=world["admin"],
                person_id=me.id,
                expected_row_version=me.row_version,
                changes={"title": "y"},
            ),
            StaleWrite,
            "row_version",
            me.row_version,
        ),
        (
            lambda s: svc.update_person(
                s,
                actor=world["admin"],
                person_id=me.id,
                expected_row_version=None,
                changes={"manager": "signer"},
            ),
            InvalidValue,
            "manager",
            "signer",
        ),
        (
            lambda s: svc.update_person(
                s,
                actor=world["admin"],
                person_id=me.id,
                expected_row_version=None,
                changes={"username": "Viewer"},
            ),
            DuplicateName,
            "username",
            "Viewer",
        ),
        (
            lambda s: svc.update_person(
                s, actor=world["admin"], person_id=me.id, expected_row_version=None, changes={"shoe_size": 44}
            ),
            InvalidValue,
            "shoe_size",
            "44",
        ),
        (
            lambda s: svc.update_person(
                s, actor=world["admin"], person_id=4242, expected_row_version=None, changes={}
            ),
            NotFound,
            "person_id",
            4242,
        ),
    ]
    for call, error, field, value in cases:
        err = assert_refused(engine, call, error)
        assert err.field == field and str(value) in str(err.value if error is PermissionDenied else err), err


# --- groups and tokens ------------------------------------------------------------------------------------------


def test_groups_and_members(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        svc.create_group(s, actor=world["admin"], name="architects", members=["owner", "Editor"])
        assert svc.set_group_members(
            s, actor=world["admin"], group="Architects", usernames=["owner", "viewer"]
        ) == [
            "owner",
            "viewer",
        ]
    (ev,) = f.last_change_set_events(engine)
    assert (ev.entity, ev.field, ev.old_value, ev.new_value) == (
        "group_member",
        "members",
        '["editor", "owner"]',
        '["owner", "viewer"]',
    )
    cases: list[tuple[Any, type[Exception], str | None, Any]] = [
        (lambda s: svc.create_group(s, actor=world["editor"], name="x"), PermissionDenied, None, None),
        (
            lambda s: svc.create_group(s, actor=world["admin"], name="Security-Team"),
            DuplicateName,
            "name",
            "Security-Team",
        ),
        (
            lambda s: svc.create_group(s, actor=world["admin"], name="x", members=["ghost"]),
            NotFound,
            "username",
            "ghost",
        ),
        (
            lambda s: svc.set_group_members(s, actor=world["admin"], group="nobody", usernames=[]),
            NotFound,
            "group",
            "nobody",
        ),
        (
            lambda s: svc.set_group_members(
                s, actor=world["signer"], group="security-team", usernames=["signer", "viewer"]
            ),
            PermissionDenied,
            None,
            None,
        ),
    ]
    for call, error, field, value in cases:
        assert_refused(engine, call, error, field=field, value=value)


def test_api_tokens_are_stored_hashed(engine: sa.Engine, world: World) -> None:
    with session_scope(engine) as s:
        token, plain = svc.create_api_token(s, actor=world["viewer"], person="viewer", name="laptop")
        token_id = token.id
    with Session(engine) as s:
        row = s.get(ApiToken, token_id)
        assert (
            row is not None and row.token_hash == security.hash_token(plain) and plain not in row.token_hash
        )
    evs = f.last_change_set_events(engine)
    assert all(
        plain not in (e.new_value or "") and security.hash_token(plain) not in (e.new_value or "")
        for e in evs
    )
    assert_refused(
        engine,
        lambda s: svc.create_api_token(s, actor=world["editor"], person="viewer", name="x"),
        PermissionDenied,
    )
    assert_refused(
        engine, lambda s: svc.revoke_api_token(s, actor=world["owner"], token_id=token_id), PermissionDenied
    )
    with session_scope(engine) as s:
        svc.revoke_api_token(s, actor=world["admin"], token_id=token_id)
    with Session(engine) as s:
        assert s.get(ApiToken, token_id) is None

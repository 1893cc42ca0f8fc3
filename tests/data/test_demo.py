"""The demo registry (``load_demo``) and the synthetic scale generator (``generate_scale``), on both
backends: counts and qualities promised to the UI, refusal on a non-empty registry, reproducibility."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import bcrypt
import pytest
import sqlalchemy as sa
from natsort import natsorted

from panopticum_data import security
from panopticum_data.db import session_scope
from panopticum_data.demo import BASE_DATE, DEMO_LOGINS, RegistryNotEmpty, load_demo
from panopticum_data.demo.scale import generate_scale
from panopticum_data.enums import DEPENDENCY_TYPES, LINK_KINDS, OWNER_STATUSES, SIGNEE_STATUSES
from panopticum_data.errors import InvalidValue
from panopticum_data.models import Base, Category
from panopticum_data.services._core import to_text
from tests import dbutil


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def demo(engine: sa.Engine) -> sa.Engine:
    with session_scope(engine) as session:
        load_demo(session)
    return engine


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).all())


def scalar(engine: sa.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def aware(value: datetime | str) -> datetime:
    """A timestamp from a textual query (SQLite gives text) as an aware datetime."""
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def current_edges(engine: sa.Engine) -> dict[int, set[int]]:
    graph: dict[int, set[int]] = defaultdict(set)
    for src, dst in rows(
        engine,
        "SELECT c.id, d.component_id FROM dependency d "
        "JOIN component c ON c.current_version_id = d.version_id",
    ):
        graph[src].add(dst)
    return graph


# --- the demo registry ------------------------------------------------------------------------------


def test_components_cover_a_realistic_landscape(demo: sa.Engine) -> None:
    assert scalar(demo, "SELECT count(*) FROM component") >= 40
    assert scalar(demo, "SELECT count(DISTINCT category_id) FROM component") >= 6
    assert scalar(demo, "SELECT count(DISTINCT type_id) FROM component") >= 6
    assert scalar(demo, "SELECT count(DISTINCT vendor_id) FROM component") >= 5
    assert scalar(demo, "SELECT count(DISTINCT life_status) FROM component") >= 4
    descriptions = [d for (d,) in rows(demo, "SELECT description FROM component")]
    assert all(d and len(d) > 20 for d in descriptions)
    assert sum("**" in d or "\n- " in d or "\n1. " in d for d in descriptions) >= 10  # Markdown
    loaded = {bool(h) for (h,) in rows(demo, "SELECT highly_loaded FROM component")}
    assert loaded == {True, False}
    assert scalar(demo, "SELECT count(DISTINCT component_id) FROM component_tag") >= 40
    assert scalar(demo, "SELECT count(*) FROM endpoint") >= 10
    names = {n for (n,) in rows(demo, "SELECT name FROM component")}
    for expected in ("API Gateway", "Identity Provider", "Payment Service", "Order Management",
                     "Product Catalog", "Search Service", "Notification Hub", "PostgreSQL Cluster",
                     "Kafka Event Bus", "Web Storefront", "Design System"):  # fmt: skip
        assert expected in names


def test_versions_sort_naturally_and_each_component_has_an_explicit_current_one(demo: sa.Engine) -> None:
    versions: dict[int, list[str]] = defaultdict(list)
    for cid, version in rows(demo, "SELECT component_id, version FROM component_version"):
        versions[cid].append(version)
    counts = {len(v) for v in versions.values()}
    assert {1, 2, 3} <= counts
    assert any({"9.2", "10.0"} <= set(v) for v in versions.values())
    assert any({"2.9", "2.10"} <= set(v) for v in versions.values())
    current = rows(
        demo,
        "SELECT c.id, v.component_id, v.version FROM component c "
        "LEFT JOIN component_version v ON v.id = c.current_version_id",
    )
    assert all(cid == owner for cid, owner, _v in current)  # set, and a version of its own component
    newest = {cid: natsorted(v)[-1] for cid, v in versions.items()}
    assert any(newest[cid] != version for cid, _o, version in current)  # explicit, not "the newest"
    orders = next(v for v in versions.values() if "9.2" in v)
    assert natsorted(orders)[-1] == "10.0"


def test_dependencies_use_every_type_with_chains_and_a_diamond(demo: sa.Engine) -> None:
    types = {t for (t,) in rows(demo, "SELECT DISTINCT type FROM dependency")}
    assert types == set(DEPENDENCY_TYPES)
    graph = current_edges(demo)
    assert all(src not in dsts for src, dsts in graph.items())
    diamond = any(
        graph.get(b, set()) & graph.get(c, set())
        for dsts in graph.values()
        for b in dsts
        for c in dsts
        if b < c
    )
    assert diamond

    def depth(node: int, seen: frozenset[int] = frozenset()) -> int:
        assert node not in seen, "dependency cycle"
        return 1 + max((depth(n, seen | {node}) for n in graph.get(node, ())), default=0)

    assert max(depth(n) for n in graph) >= 5  # chains, and no cycles among current versions
    # older versions differ from the current one (Order Management moved from RabbitMQ to Kafka)
    assert scalar(demo, "SELECT count(DISTINCT version_id) FROM dependency") > len(graph)


def test_products_and_deployments(demo: sa.Engine) -> None:
    assert scalar(demo, "SELECT count(*) FROM product_family") == 2
    assert 3 <= scalar(demo, "SELECT count(*) FROM product_version") <= 4
    deployments = rows(
        demo,
        "SELECT location_class_id, environment_id, runtime_id, service_name, binary_name, is_new, "
        "product_version_id FROM deployment",
    )
    assert len({d[0] for d in deployments}) >= 3
    assert len({d[1] for d in deployments}) >= 3
    assert len({d[2] for d in deployments if d[2]}) >= 4
    assert all(d[3] and d[4] for d in deployments)
    assert {bool(d[5]) for d in deployments} == {True, False}
    assert len({d[6] for d in deployments}) == scalar(demo, "SELECT count(*) FROM product_version")
    assert scalar(demo, "SELECT count(DISTINCT port_id) FROM deployment_port") >= 8
    assert scalar(demo, "SELECT count(DISTINCT data_center_id) FROM data_center_deployment") >= 3


def _fixture() -> list[dict[str, Any]]:
    text = resources.files("panopticum_data.demo").joinpath("minimal.json").read_text(encoding="utf-8")
    data: list[dict[str, Any]] = json.loads(text)
    return data


def test_requirement_sets_are_the_originals(demo: sa.Engine) -> None:
    fixture = _fixture()
    titles = {r["pk"]: r["fields"]["title"] for r in fixture if r["model"] == "panopticum.requirement"}
    descriptions = {r["fields"]["title"]: r["fields"]["description"] or None for r in fixture if r["model"] == "panopticum.requirement"}  # fmt: skip
    expected_sets = {
        r["fields"]["name"]: [titles[pk] for pk in r["fields"]["requirements"]]
        for r in fixture
        if r["model"] == "panopticum.requirementset"
    }
    assert len(titles) == 26 and len(expected_sets) == 4
    stored = dict(rows(demo, "SELECT title, description FROM requirement"))
    assert stored == descriptions
    members: dict[str, list[str]] = defaultdict(list)
    for set_name, title in rows(
        demo,
        "SELECT s.name, r.title FROM requirement_set_item i JOIN requirement_set s ON s.id = i.set_id "
        "JOIN requirement r ON r.id = i.requirement_id ORDER BY s.name, i.position",
    ):
        members[set_name].append(title)
    assert set(members) == set(expected_sets)
    for name, expected in expected_sets.items():
        assert members[name][: len(expected)] == expected  # the fixture's membership and order
    shared = rows(
        demo, "SELECT requirement_id FROM requirement_set_item GROUP BY requirement_id HAVING count(*) > 1"
    )
    assert len(shared) == 1
    sets = rows(demo, "SELECT id, position, ui_slot, validity_days, doc_link FROM requirement_set")
    assert len({s[1] for s in sets}) == 4 and all(s[2] > 0 and s[4] for s in sets)
    assert [s[3] for s in sets if s[3] is not None] == [365]
    signer_sets = {s for (s,) in rows(demo, "SELECT DISTINCT set_id FROM signer_group")}
    assert signer_sets == {s[0] for s in sets}


def test_every_owner_and_signee_combination_exists_with_an_expired_verdict(demo: sa.Engine) -> None:
    combos = set(rows(demo, "SELECT DISTINCT owner_status, signee_status FROM requirement_status"))
    assert combos == {(o, s) for o in OWNER_STATUSES for s in SIGNEE_STATUSES}
    verdicts = rows(
        demo,
        "SELECT st.signee_at, s.validity_days FROM requirement_status st "
        "JOIN requirement_set_item i ON i.requirement_id = st.requirement_id "
        "JOIN requirement_set s ON s.id = i.set_id "
        "WHERE st.signee_status <> 'unknown' AND s.validity_days IS NOT NULL",
    )
    expired = [at for at, days in verdicts if aware(at) + timedelta(days=days) < BASE_DATE]
    valid = [at for at, days in verdicts if aware(at) + timedelta(days=days) >= BASE_DATE]
    assert expired and valid
    # a recorded claim or verdict names its author and time
    assert not rows(
        demo,
        "SELECT id FROM requirement_status WHERE (owner_status <> 'unknown' AND (owner_by_id IS NULL "
        "OR owner_at IS NULL)) OR (signee_status <> 'unknown' AND (signee_by_id IS NULL OR signee_at IS NULL))",
    )
    # signees belong to a signer group of a set that holds the requirement
    strangers = rows(
        demo,
        "SELECT st.id FROM requirement_status st WHERE st.signee_by_id IS NOT NULL AND NOT EXISTS ("
        " SELECT 1 FROM requirement_set_item i JOIN signer_group g ON g.set_id = i.set_id"
        " JOIN group_member m ON m.group_id = g.group_id"
        " WHERE i.requirement_id = st.requirement_id AND m.person_id = st.signee_by_id)",
    )
    assert not strangers


def test_exclusions_and_qa(demo: sa.Engine) -> None:
    exclusions = rows(demo, "SELECT reason, excluded_by_id FROM set_exclusion")
    assert len(exclusions) >= 4 and all(r and by for r, by in exclusions)
    excluded_statuses = rows(
        demo,
        "SELECT st.id FROM requirement_status st JOIN set_exclusion x ON x.version_id = st.version_id "
        "JOIN requirement_set_item i ON i.set_id = x.set_id AND i.requirement_id = st.requirement_id "
        "WHERE NOT EXISTS (SELECT 1 FROM requirement_set_item j WHERE j.requirement_id = st.requirement_id "
        " AND j.set_id <> x.set_id AND NOT EXISTS (SELECT 1 FROM set_exclusion y "
        "  WHERE y.version_id = st.version_id AND y.set_id = j.set_id))",
    )
    assert not excluded_statuses  # no claims on requirements that do not apply
    applicable = {bool(a) for (a,) in rows(demo, "SELECT qa_applicable FROM component_version")}
    assert applicable == {True, False}
    assert not rows(
        demo,
        "SELECT q.version_id FROM qa_level q JOIN component_version v ON v.id = q.version_id "
        "WHERE v.qa_applicable = :no",
        no=False,
    )
    levels = {lv for (lv,) in rows(demo, "SELECT DISTINCT level FROM qa_level")}
    assert {"n/a", "none", "low", "med", "high"} <= levels
    assert scalar(demo, "SELECT count(*) FROM qa_level WHERE signed_off_by_id IS NOT NULL") > 0


def test_links_of_every_kind_and_documents(demo: sa.Engine) -> None:
    kinds = {k for (k,) in rows(demo, "SELECT DISTINCT kind FROM version_link")}
    assert kinds == set(LINK_KINDS)
    assert scalar(demo, "SELECT count(*) FROM version_link WHERE position > 0") >= 1
    docs = rows(demo, "SELECT document_type_id, title, url FROM document_link")
    assert len(docs) >= 10 and len({d[0] for d in docs}) >= 5


def test_people_form_an_organisation(demo: sa.Engine) -> None:
    people = rows(
        demo,
        "SELECT id, manager_id, department_id, organisation_id, job_role_id, title, office_phone, "
        "photo, hidden, active FROM person",
    )
    assert 28 <= len(people) <= 40
    manager = {p[0]: p[1] for p in people}
    roots = [pid for pid, m in manager.items() if m is None]
    assert len(roots) <= 2

    def level(pid: int) -> int:
        return 0 if manager[pid] is None else 1 + level(manager[pid])

    assert max(level(pid) for pid in manager) >= 3
    assert len({p[2] for p in people}) >= 6 and len({p[3] for p in people}) >= 2
    assert len({p[4] for p in people}) >= 8
    assert all(p[5] for p in people) and sum(bool(p[6]) for p in people) >= 25
    photos = [bytes(p[7]) for p in people if p[7] is not None]
    assert 3 <= len(photos) < len(people)
    assert all(photo.startswith(b"\x89PNG\r\n\x1a\n") for photo in photos)
    assert any(p[8] for p in people) and not all(p[9] for p in people)


def test_signer_groups_and_demo_logins(demo: sa.Engine) -> None:
    groups = {
        name: {u for (u,) in rows(demo, "SELECT p.username FROM group_member m JOIN person p ON p.id = m.person_id "
                                        "JOIN person_group g ON g.id = m.group_id WHERE g.name = :n", n=name)}
        for name in ("Security experts", "Architecture experts", "Operations experts", "Maintenance experts")
    }  # fmt: skip
    assert all(groups.values())
    assert "expert" in groups["Security experts"] and "expert" in groups["Architecture experts"]
    logins = {
        u: (role, hashed)
        for u, role, hashed in rows(demo, "SELECT username, access_role, password_hash FROM person")
        if hashed
    }
    assert (
        {u: r for u, (r, _h) in logins.items()}
        == {
            "admin": "admin",
            "owner": "viewer",
            "expert": "viewer",
            "viewer": "viewer",
        }
        == DEMO_LOGINS
    )
    for username, (_role, hashed) in logins.items():
        assert hashed.startswith("$2")
        assert bcrypt.checkpw(username.encode(), hashed.encode())
        assert not bcrypt.checkpw(b"wrong", hashed.encode())
    owned = rows(
        demo,
        "SELECT DISTINCT c.name FROM component c JOIN component_version v ON v.id = c.current_version_id "
        "JOIN person p ON p.id = v.maintainer_id WHERE p.username = 'owner'",
    )
    assert len(owned) >= 3


def test_tech_radar(demo: sa.Engine) -> None:
    quadrants = {n: p for n, p in rows(demo, "SELECT name, position FROM radar_quadrant")}
    assert quadrants == {"Dev Tools": 0, "Methods & Patterns": 1, "Databases & Services": 2,
                         "Languages & Frameworks": 3}  # fmt: skip
    rings = dict(rows(demo, "SELECT name, color FROM radar_ring"))
    assert rings == {"ADOPT": "#5ba300", "TRIAL": "#009eb0", "ASSESS": "#c7ba00", "HOLD": "#e09b96"}
    entries = rows(demo, "SELECT label, moved, active FROM radar_entry")
    assert len(entries) >= 6 and {m for _l, m, _a in entries} == {-1, 0, 1}


_ENTITY_TABLES = {"component": "component", "component_version": "component_version",
                  "requirement_status": "requirement_status"}  # fmt: skip


def test_history_has_creates_and_later_edits_that_end_in_the_current_values(demo: sa.Engine) -> None:
    sets = rows(demo, "SELECT id, source, actor_id, actor_name, at FROM change_set ORDER BY id")
    demo_sets = [s for s in sets if s[1] == "demo"]
    assert len(demo_sets) == 1 and demo_sets[0][2] is None and demo_sets[0][3] == "system"
    demo_id, loaded_at = demo_sets[0][0], aware(demo_sets[0][4])
    creates = rows(
        demo,
        "SELECT entity, entity_id, component_id, actor_name FROM audit_event "
        "WHERE change_set_id = :cs AND action = 'create'",
        cs=demo_id,
    )
    by_entity = defaultdict(set)
    for entity, entity_id, component_id, actor in creates:
        assert actor == "system" and component_id is not None
        by_entity[entity].add(entity_id)
    assert by_entity["component"] == {i for (i,) in rows(demo, "SELECT id FROM component")}
    assert by_entity["component_version"] == {i for (i,) in rows(demo, "SELECT id FROM component_version")}
    later = [s for s in sets if s[0] != demo_id]
    assert len(later) >= 5
    assert all(s[2] is not None and loaded_at < aware(s[4]) < BASE_DATE for s in later)
    edits = rows(
        demo,
        "SELECT entity, entity_id, field, old_value, new_value, at FROM audit_event "
        "WHERE change_set_id <> :cs AND action = 'update' ORDER BY at, id",
        cs=demo_id,
    )
    fields = {e[2] for e in edits}
    assert {"life_status", "owner_status", "signee_status", "maintainer_id"} <= fields
    assert all(e[3] != e[4] for e in edits)
    final: dict[tuple[str, int, str], str | None] = {}
    for entity, entity_id, field, _old, new, _at in edits:
        final[(entity, entity_id, field)] = new
    for (entity, entity_id, field), new in final.items():
        current = scalar(demo, f"SELECT {field} FROM {_ENTITY_TABLES[entity]} WHERE id = :i", i=entity_id)
        if field == "highly_loaded":  # SQLite gives 0/1 to a textual query
            current = bool(current)
        assert to_text(current) == new, (entity, entity_id, field)


def test_a_second_load_is_refused_and_changes_nothing(demo: sa.Engine) -> None:
    before = _snapshot(demo)
    with pytest.raises(RegistryNotEmpty, match="already holds 50 component"), session_scope(demo) as session:
        load_demo(session)
    assert _snapshot(demo) == before


def test_the_demo_is_deterministic(demo: sa.Engine) -> None:
    first = _snapshot(demo, skip=("person.password_hash",))  # bcrypt salts are random, by design
    _wipe(demo)
    with session_scope(demo) as session:
        load_demo(session)
    assert _snapshot(demo, skip=("person.password_hash",)) == first
    stamps = rows(
        demo, "SELECT updated_at FROM component UNION ALL SELECT updated_at FROM requirement_status"
    )
    assert all(aware(at) < BASE_DATE for (at,) in stamps)


def test_ids_continue_after_the_load(demo: sa.Engine) -> None:
    with session_scope(demo) as session:
        top = session.scalar(sa.select(sa.func.max(Category.id)))
        category = Category(name="Added after the demo", position=99)
        session.add(category)
        session.flush()
        assert category.id > top


def test_existing_people_and_reference_rows_are_reused(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        session.execute(sa.insert(Category), [{"name": "commerce", "position": 7}])
        session.execute(
            sa.text("INSERT INTO person (username, access_role, active, hidden, row_version, created_at, "
                    "updated_at) VALUES ('Admin', 'admin', :t, :f, 1, :now, :now)"),
            {"t": True, "f": False, "now": BASE_DATE},
        )  # fmt: skip
    with session_scope(engine) as session:
        load_demo(session)
    assert scalar(engine, "SELECT count(*) FROM category WHERE lower(name) = 'commerce'") == 1
    assert scalar(engine, "SELECT count(*) FROM person WHERE lower(username) = 'admin'") == 1
    assert scalar(engine, "SELECT password_hash FROM person WHERE username = 'Admin'") is None


# --- the synthetic registry ------------------------------------------------------------------------


def _snapshot(engine: sa.Engine, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """A content hash of every table (ids included), rows in primary-key order; ``skip`` names
    columns ("table.column") left out."""
    result = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if f"{table.name}.{c.name}" not in skip]
            data = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            result[table.name] = hashlib.sha256(repr([tuple(r) for r in data]).encode()).hexdigest()
    return result


def _wipe(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        dbutil.truncate_all(engine)
        return
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def scale200(engine: sa.Engine) -> Iterator[sa.Engine]:
    generate_scale(engine, components=200, seed=0)
    yield engine


def test_scale_counts_are_proportional(scale200: sa.Engine) -> None:
    n = 200
    e = scale200
    assert scalar(e, "SELECT count(*) FROM component") == n
    versions = scalar(e, "SELECT count(*) FROM component_version")
    assert 1.3 * n <= versions <= 1.7 * n
    assert scalar(e, "SELECT count(*) FROM component WHERE current_version_id IS NULL") == 0
    assert not rows(
        e,
        "SELECT c.id FROM component c JOIN component_version v ON v.id = c.current_version_id "
        "WHERE v.component_id <> c.id",
    )
    current_deps = scalar(
        e, "SELECT count(*) FROM dependency d JOIN component c ON c.current_version_id = d.version_id"
    )
    assert 2.5 * n <= current_deps <= 3.5 * n
    assert {t for (t,) in rows(e, "SELECT DISTINCT type FROM dependency")} == set(DEPENDENCY_TYPES)
    backwards = rows(
        e,
        "SELECT d.id FROM dependency d JOIN component_version v ON v.id = d.version_id "
        "WHERE d.component_id >= v.component_id",
    )
    assert not backwards  # edges point to earlier components: no cycles
    deployments = scalar(e, "SELECT count(*) FROM deployment")
    assert 0.75 * versions <= deployments <= 1.25 * versions
    people = rows(e, "SELECT id, manager_id FROM person")
    assert len(people) == 20 and sum(m is None for _p, m in people) == 1
    assert scalar(e, "SELECT count(*) FROM requirement") == 26
    assert scalar(e, "SELECT count(*) FROM requirement_set") == 4
    assert scalar(e, "SELECT count(*) FROM tag") >= 12
    assert scalar(e, "SELECT count(DISTINCT component_id) FROM component_tag") == n
    assert scalar(e, "SELECT count(*) FROM qa_level") > versions
    assert {bool(a) for (a,) in rows(e, "SELECT qa_applicable FROM component_version")} == {True, False}
    sources = rows(e, "SELECT source, summary FROM change_set")
    assert len(sources) == 1 and sources[0][0] == "scale" and "200 components" in sources[0][1]


def test_scale_has_exactly_one_status_per_current_version_and_requirement(scale200: sa.Engine) -> None:
    e = scale200
    assert scalar(e, "SELECT count(*) FROM requirement_status") == 200 * 26
    pairs = scalar(
        e,
        "SELECT count(*) FROM (SELECT DISTINCT c.current_version_id, r.id FROM component c "
        "CROSS JOIN requirement r JOIN requirement_status s "
        "ON s.version_id = c.current_version_id AND s.requirement_id = r.id) x",
    )
    assert pairs == 200 * 26
    mix = rows(e, "SELECT owner_status, signee_status, count(*) FROM requirement_status GROUP BY 1, 2")
    owners = {o for o, _s, _n in mix}
    signees = {s for _o, s, _n in mix}
    assert owners == set(OWNER_STATUSES) and signees == set(SIGNEE_STATUSES)
    assert max(n for _o, _s, n in mix) < 0.6 * 200 * 26  # a mix, not one dominant state


def test_scale_is_reproducible_and_the_seed_matters(engine: sa.Engine) -> None:
    generate_scale(engine, components=120, seed=5)
    first = _snapshot(engine)
    _wipe(engine)
    generate_scale(engine, components=120, seed=5)
    assert _snapshot(engine) == first
    _wipe(engine)
    generate_scale(engine, components=120, seed=6)
    other = _snapshot(engine)
    assert other["requirement_status"] != first["requirement_status"]
    assert other["dependency"] != first["dependency"]


def test_scale_reports_progress_and_ids_continue(engine: sa.Engine) -> None:
    seen: list[tuple[str, int, int]] = []
    result = generate_scale(engine, components=60, seed=1, progress=lambda s, d, t: seen.append((s, d, t)))
    stages = list(dict.fromkeys(s for s, _d, _t in seen))
    assert "requirement statuses" in stages and "dependencies" in stages
    for stage in stages:
        _stage, done, total = [report for report in seen if report[0] == stage][-1]
        assert done == total
    assert result.counts["components"] == 60 and result.seconds > 0
    with session_scope(engine) as session:
        top = session.scalar(sa.select(sa.func.max(Category.id)))
        category = Category(name="Added after scale", position=1)
        session.add(category)
        session.flush()
        assert category.id > top


def test_scale_refuses_a_registry_with_components_and_bad_counts(engine: sa.Engine) -> None:
    with pytest.raises(InvalidValue):
        generate_scale(engine, components=0)
    generate_scale(engine, components=30)
    with pytest.raises(RegistryNotEmpty):
        generate_scale(engine, components=30)
    assert scalar(engine, "SELECT count(*) FROM component") == 30

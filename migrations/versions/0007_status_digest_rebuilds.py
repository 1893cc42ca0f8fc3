"""requirement_status_digest: 14-character records, every trigger rebuilds (upserts) what it touched

Migration 0006's digest had gaps a review found; this one replaces its triggers and rebuilds every
version's digest in the new record format:

* a record is 15 printable ASCII characters (decoded by
  ``panopticum_data.queries.status_matrix.decode_cells``):

  - 4: the requirement id in base 90 (digits chr(33)..chr(122)); ids up to 65,609,999 (a larger
    one is refused with an error instead of aliasing a smaller one, as three digits did past
    728,999);
  - 1: chr(64 + length(owner_status)) and 1: chr(64 + length(signee_status)) (the lengths tell the
    statuses apart);
  - 9: the signee's time in microseconds since 0001-01-01 UTC in base 90 (to the year 14,265: every
    time Python holds, exactly; PostgreSQL's BC times and 'infinity' are clamped to the ends), and 0
    when there is none (the decoder counts it as expired under any validity, as scoring does). 0006
    counted from 1970 in 8 digits: it failed on times before 1970 and wrapped those after 2106;

* a trigger rebuilds each version it touched from the status rows, and creates the version's digest
  row when there is none (0006 appended on insert and only updated on update or delete, so an
  upsert that inserted and updated one version recorded a row twice, a SQLite ``INSERT OR REPLACE``
  kept the replaced row, and a version whose first row arrived by an update had no digest);
* on SQLite an insert still appends its record when the digest holds one record per other row of
  the version (or starts it when there are none), else it rebuilds; the engine turns on
  ``recursive_triggers`` so that ``REPLACE`` fires the delete trigger for the row it replaces (on a
  connection without it, a REPLACE that moves a row id to another version leaves the old
  version's record until that version's next write). SQLite's times are read in SQLAlchemy's format
  ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC; a shorter fraction is padded);
* on PostgreSQL all three triggers run once per statement over its transition tables (an update
  rebuilds only versions whose (version, requirement, statuses, time) rows changed, so notes and
  ``row_version`` cost nothing); a rebuild creates the missing digest rows, locks the versions'
  digest rows in version order and only then aggregates, in a new statement that sees what a
  concurrent writer committed (READ COMMITTED); ``TRUNCATE requirement_status`` empties the digest.

SQLite drops a table's triggers when a batch migration rebuilds it: a later migration that alters
``requirement_status`` through ``batch_alter_table`` must create them again (``create_triggers``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "requirement_status_digest"
RECORD = 15
MAX_REQUIREMENT = 90**4 - 1
MAX_MICRO = 90**9 - 1
EPOCH_SECONDS = 62_135_596_800  # from 0001-01-01 to 1970-01-01 UTC
FIELDS = ("version_id", "requirement_id", "owner_status", "signee_status", "signee_at")
TOO_LARGE = f"requirement_status.requirement_id beyond the status digest (at most {MAX_REQUIREMENT:,})"


def _digits(expr: str, width: int) -> list[str]:
    return [f"33 + ({expr}) / {90**j} % 90" if j else f"33 + ({expr}) % 90" for j in reversed(range(width))]


# ---------------------------------------------------------------------------------------- SQLite


def _sqlite_micro(at: str) -> str:
    """``at`` (SQLAlchemy's 'YYYY-MM-DD HH:MM:SS[.ffffff]') in µs since 0001-01-01; 0 when null."""
    fraction = f"CASE WHEN substr({at}, 20, 1) = '.' THEN CAST(substr({at} || '00000', 21, 6) AS INTEGER) ELSE 0 END"
    micro = f"(CAST(strftime('%s', substr({at}, 1, 19)) AS INTEGER) + {EPOCH_SECONDS}) * 1000000 + {fraction}"
    return f"CASE WHEN {at} IS NULL THEN 0 ELSE coalesce(max(1, min({MAX_MICRO}, {micro})), 0) END"


def _sqlite_chars(requirement: str, owner: str, signee: str, micro: str) -> str:
    codes = [*_digits(requirement, 4), f"64 + length({owner})", f"64 + length({signee})", *_digits(micro, 9)]
    return f"char({', '.join(codes)})"


def _sqlite_aggregate(version: str) -> str:
    """The digest of ``version`` from its status rows, in requirement order ('' without rows)."""
    return (
        f"(SELECT coalesce(group_concat({_sqlite_chars('t.rid', 't.os', 't.ss', 't.m')}, ''), '') FROM"
        f" (SELECT s.requirement_id AS rid, s.owner_status AS os, s.signee_status AS ss,"
        f" {_sqlite_micro('s.signee_at')} AS m FROM requirement_status AS s"
        f" WHERE s.version_id = {version} ORDER BY s.requirement_id) AS t)"
    )


def _sqlite_rebuild(version: str, also: str = "") -> str:
    """Upsert ``version``'s rebuilt digest, if the version (still) exists."""
    return (
        f"INSERT INTO {TABLE} (version_id, cells) SELECT v.id, {_sqlite_aggregate('v.id')}"
        f" FROM component_version AS v WHERE v.id = {version}{also}"
        " ON CONFLICT (version_id) DO UPDATE SET cells = excluded.cells;"
    )


SQLITE_REFUSE = (
    f"SELECT RAISE(ABORT, '{TOO_LARGE}') WHERE NEW.requirement_id NOT BETWEEN 0 AND {MAX_REQUIREMENT};"
)
# the version's other status rows (the new one is in the table already)
_SQLITE_OTHERS = "((SELECT count(*) FROM requirement_status AS s WHERE s.version_id = NEW.version_id) - 1)"
SQLITE_CHANGED = " OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in FIELDS)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER trg_requirement_status_digest_insert AFTER INSERT ON requirement_status
BEGIN
    {SQLITE_REFUSE}
    INSERT INTO {TABLE} (version_id, cells)
    SELECT NEW.version_id, CASE WHEN {_SQLITE_OTHERS} = 0
        OR EXISTS (SELECT 1 FROM {TABLE} AS d WHERE d.version_id = NEW.version_id)
        THEN {_sqlite_chars("NEW.requirement_id", "NEW.owner_status", "NEW.signee_status", "t.m")}
        ELSE {_sqlite_aggregate("NEW.version_id")} END
    FROM (SELECT {_sqlite_micro("NEW.signee_at")} AS m) AS t WHERE true
    ON CONFLICT (version_id) DO UPDATE SET cells = CASE
        WHEN length(cells) = {RECORD} * {_SQLITE_OTHERS} THEN cells || excluded.cells
        ELSE {_sqlite_aggregate("NEW.version_id")} END;
END""",
    f"""CREATE TRIGGER trg_requirement_status_digest_update AFTER UPDATE ON requirement_status
WHEN {SQLITE_CHANGED}
BEGIN
    {SQLITE_REFUSE}
    {_sqlite_rebuild("NEW.version_id")}
    {_sqlite_rebuild("OLD.version_id", " AND OLD.version_id IS NOT NEW.version_id")}
END""",
    f"""CREATE TRIGGER trg_requirement_status_digest_delete AFTER DELETE ON requirement_status
BEGIN
    {_sqlite_rebuild("OLD.version_id")}
END""",
]
SQLITE_BACKFILL = (
    f"DELETE FROM {TABLE}; INSERT INTO {TABLE} (version_id, cells)"
    f" SELECT v.id, {_sqlite_aggregate('v.id')} FROM component_version AS v"
    " WHERE v.id IN (SELECT version_id FROM requirement_status)"
)

# ------------------------------------------------------------------------------------ PostgreSQL

PG_RECORD = f"""CREATE FUNCTION requirement_status_digest_record(
    requirement_id integer, owner_status text, signee_status text, signee_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT chr({") || chr(".join(_digits("requirement_id", 4))})
        || chr(64 + length(owner_status)) || chr(64 + length(signee_status))
        || chr(({")::integer) || chr((".join(_digits("m", 9))})::integer)
    FROM (SELECT CASE WHEN signee_at IS NULL THEN 0::bigint
                 ELSE least(greatest((extract(epoch FROM signee_at) + {EPOCH_SECONDS}) * 1000000, 1),
                            {MAX_MICRO})::bigint
                 END AS m) AS t
$$"""
PG_REBUILD = f"""CREATE FUNCTION requirement_status_digest_rebuild(versions integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(versions) = 0 THEN
        RETURN;
    END IF;
    -- a version without a digest row gets one (unless it is being deleted)
    INSERT INTO {TABLE} (version_id, cells)
    SELECT v.id, '' FROM component_version AS v WHERE v.id = ANY (versions) ORDER BY v.id
    ON CONFLICT (version_id) DO NOTHING;
    -- lock in version order; the aggregate below is a new statement, so it sees what a holder committed
    PERFORM 1 FROM {TABLE} WHERE version_id = ANY (versions) ORDER BY version_id FOR UPDATE;
    UPDATE {TABLE} AS d SET cells = coalesce((
        SELECT string_agg(requirement_status_digest_record(
            s.requirement_id, s.owner_status, s.signee_status, s.signee_at), '' ORDER BY s.requirement_id)
        FROM requirement_status AS s WHERE s.version_id = d.version_id), '')
    WHERE d.version_id = ANY (versions);
END $$"""
PG_REFUSE = f"""IF EXISTS (SELECT 1 FROM new_rows WHERE requirement_id NOT BETWEEN 0 AND {MAX_REQUIREMENT}) THEN
        RAISE EXCEPTION '{TOO_LARGE}' USING ERRCODE = 'check_violation';
    END IF;"""
_COLUMNS = ", ".join(FIELDS)
PG_INSERTED = f"""CREATE FUNCTION requirement_status_digest_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {PG_REFUSE}
    PERFORM requirement_status_digest_rebuild(ARRAY(SELECT DISTINCT version_id FROM new_rows ORDER BY 1));
    RETURN NULL;
END $$"""
PG_UPDATED = f"""CREATE FUNCTION requirement_status_digest_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {PG_REFUSE}
    -- only versions whose rows changed in a field of the record (not notes, evidence, row_version)
    PERFORM requirement_status_digest_rebuild(ARRAY(
        SELECT DISTINCT version_id FROM (
            (SELECT {_COLUMNS} FROM new_rows EXCEPT ALL SELECT {_COLUMNS} FROM old_rows)
            UNION ALL
            (SELECT {_COLUMNS} FROM old_rows EXCEPT ALL SELECT {_COLUMNS} FROM new_rows)
        ) AS changed ORDER BY 1));
    RETURN NULL;
END $$"""
PG_DELETED = """CREATE FUNCTION requirement_status_digest_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM requirement_status_digest_rebuild(ARRAY(SELECT DISTINCT version_id FROM old_rows ORDER BY 1));
    RETURN NULL;
END $$"""
PG_TRUNCATED = f"""CREATE FUNCTION requirement_status_digest_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE};
    RETURN NULL;
END $$"""
PG_TRIGGERS = [
    "CREATE TRIGGER trg_requirement_status_digest_insert AFTER INSERT ON requirement_status"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION requirement_status_digest_inserted()",
    "CREATE TRIGGER trg_requirement_status_digest_update AFTER UPDATE ON requirement_status"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION requirement_status_digest_updated()",
    "CREATE TRIGGER trg_requirement_status_digest_delete AFTER DELETE ON requirement_status"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION requirement_status_digest_deleted()",
    "CREATE TRIGGER trg_requirement_status_digest_truncate AFTER TRUNCATE ON requirement_status"
    " FOR EACH STATEMENT EXECUTE FUNCTION requirement_status_digest_truncated()",
]
PG_FUNCTIONS = (
    "requirement_status_digest_inserted()",
    "requirement_status_digest_updated()",
    "requirement_status_digest_deleted()",
    "requirement_status_digest_truncated()",
    "requirement_status_digest_changed()",  # (0006's)
    "requirement_status_digest_rebuild(integer[])",
    "requirement_status_digest_rebuild(integer)",  # (0006's)
    "requirement_status_digest_record(integer, text, text, timestamptz)",
)
PG_BACKFILL = (
    f"DELETE FROM {TABLE}; INSERT INTO {TABLE} (version_id, cells) SELECT s.version_id, string_agg("
    "requirement_status_digest_record(s.requirement_id, s.owner_status, s.signee_status, s.signee_at),"
    " '' ORDER BY s.requirement_id) FROM requirement_status AS s GROUP BY s.version_id"
)
TRIGGERS = ("insert", "update", "delete", "truncate")


def create_triggers() -> None:
    """Create the triggers (and on PostgreSQL their functions) that keep the digest."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in (PG_RECORD, PG_REBUILD, PG_INSERTED, PG_UPDATED, PG_DELETED, PG_TRUNCATED, *PG_TRIGGERS):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_triggers() -> None:
    """Drop the digest's triggers and functions (0006's or these)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        on = " ON requirement_status" if postgresql else ""
        op.execute(f"DROP TRIGGER IF EXISTS trg_requirement_status_digest_{name}{on}")
    if postgresql:
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")


def _backfill() -> None:
    for statement in (PG_BACKFILL if op.get_bind().dialect.name == "postgresql" else SQLITE_BACKFILL).split("; "):
        op.execute(statement)


def upgrade() -> None:
    drop_triggers()
    create_triggers()  # (on PostgreSQL the backfill calls the record function)
    _backfill()


def downgrade() -> None:
    """Back to 0006's triggers and 13-character records (0006 cannot encode a signee time before
    1970: on PostgreSQL the downgrade then fails and leaves 0007 in place)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "_digest_0006", Path(__file__).with_name("0006_requirement_status_digest.py")
    )
    assert spec is not None and spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    drop_triggers()
    previous.create_triggers()
    op.execute(f"DELETE FROM {TABLE}")
    op.execute(previous.PG_BACKFILL if op.get_bind().dialect.name == "postgresql" else previous.SQLITE_BACKFILL)

"""requirement_status_digest: each version's status rows as one string, kept by triggers

The overview, the heat-maps and the queues read every current version's requirement statuses
(260,000 rows at 10,000 components). Aggregating them on every read cost ~100 ms on SQLite; this
table holds the aggregate, one row per version, maintained by triggers on ``requirement_status`` so
that every writer (services, loaders, cascades, plain SQL) keeps it right.

A status row's record is 13 printable ASCII characters (decoded by
``panopticum_data.queries.status_matrix.decode_cells``):

* 3: the requirement id in base 90 (digits chr(33)..chr(122));
* 1: chr(64 + length(owner_status)) and 1: chr(64 + length(signee_status)) (the lengths tell the
  statuses apart);
* 8: the signee's time in microseconds since 1970-01-01 UTC in base 90 (0 when there is none).

An insert appends its record (on PostgreSQL once per statement, per version); an update of a field
in the record, or a delete, rebuilds the version's string. On PostgreSQL the rebuild first locks the digest row and then aggregates in a
new statement, so it sees a concurrent transaction's committed change (READ COMMITTED).

SQLite drops a table's triggers when a batch migration rebuilds it: a later migration that alters
``requirement_status`` through ``batch_alter_table`` must create them again (``create_triggers``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "requirement_status_digest"
RECORD_FIELDS = ("requirement_id", "owner_status", "signee_status", "signee_at")
# fires only when a field of the record changes (not on notes, evidence, row_version)
CHANGED = " OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in ("version_id", *RECORD_FIELDS))
PG_CHANGED = " OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in ("version_id", *RECORD_FIELDS))


def _digits(expr: str, width: int) -> list[str]:
    return [f"33 + {expr} / {90 ** j} % 90" if j else f"33 + {expr} % 90" for j in reversed(range(width))]


def _sqlite_record(row: str) -> str:
    """The record of ``row`` (NEW, OLD or a table alias) as one SQLite char() call.

    SQLAlchemy stores a DateTime on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC here): strftime('%s')
    of the first 19 characters gives the whole seconds (given the fraction, it would round to the
    millisecond), the six digits from position 21 the microseconds."""
    micro = (
        f"coalesce(CAST(strftime('%s', substr({row}.signee_at, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({row}.signee_at, 21, 6) AS INTEGER), 0)"
    )
    codes = [
        *_digits(f"{row}.requirement_id", 3),
        f"64 + length({row}.owner_status)",
        f"64 + length({row}.signee_status)",
        *_digits(f"({micro})", 8),
    ]
    return f"char({', '.join(codes)})"


def _sqlite_rebuild(version: str, also: str = "") -> str:
    return (
        f"UPDATE {TABLE} SET cells = coalesce((SELECT group_concat({_sqlite_record('s')}, '')"
        f" FROM requirement_status AS s WHERE s.version_id = {version}), '')"
        f" WHERE version_id = {version}{also};"
    )


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER trg_requirement_status_digest_insert AFTER INSERT ON requirement_status
BEGIN
    INSERT INTO {TABLE} (version_id, cells) SELECT NEW.version_id, {_sqlite_record("NEW")} WHERE true
    ON CONFLICT (version_id) DO UPDATE SET cells = cells || excluded.cells;
END""",
    f"""CREATE TRIGGER trg_requirement_status_digest_update AFTER UPDATE ON requirement_status
WHEN {CHANGED}
BEGIN
    {_sqlite_rebuild("NEW.version_id")}
    {_sqlite_rebuild("OLD.version_id", " AND OLD.version_id <> NEW.version_id")}
END""",
    f"""CREATE TRIGGER trg_requirement_status_digest_delete AFTER DELETE ON requirement_status
BEGIN
    {_sqlite_rebuild("OLD.version_id")}
END""",
]
SQLITE_BACKFILL = (
    f"INSERT INTO {TABLE} (version_id, cells) SELECT s.version_id,"
    f" group_concat({_sqlite_record('s')}, '') FROM requirement_status AS s GROUP BY s.version_id"
)

PG_RECORD = f"""CREATE FUNCTION requirement_status_digest_record(
    requirement_id integer, owner_status text, signee_status text, signee_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT chr({") || chr(".join(_digits("requirement_id", 3))})
        || chr(64 + length(owner_status)) || chr(64 + length(signee_status))
        || chr(({")::integer) || chr((".join(_digits("m", 8))})::integer)
    FROM (SELECT coalesce((extract(epoch FROM signee_at) * 1000000)::bigint, 0) AS m) AS t
$$"""
PG_REBUILD = f"""CREATE FUNCTION requirement_status_digest_rebuild(version integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- lock first: the aggregate below is a new statement, so it sees what the holder committed
    PERFORM 1 FROM {TABLE} WHERE version_id = version FOR UPDATE;
    UPDATE {TABLE} SET cells = coalesce((
        SELECT string_agg(requirement_status_digest_record(
            s.requirement_id, s.owner_status, s.signee_status, s.signee_at), '')
        FROM requirement_status AS s WHERE s.version_id = version), '')
    WHERE version_id = version;
END $$"""
PG_INSERTED = f"""CREATE FUNCTION requirement_status_digest_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- once per statement: an executemany of 1,000 rows appends to each version once
    INSERT INTO {TABLE} AS d (version_id, cells)
    SELECT n.version_id, string_agg(requirement_status_digest_record(
        n.requirement_id, n.owner_status, n.signee_status, n.signee_at), '')
    FROM new_rows AS n GROUP BY n.version_id ORDER BY n.version_id
    ON CONFLICT (version_id) DO UPDATE SET cells = d.cells || excluded.cells;
    RETURN NULL;
END $$"""
PG_CHANGED_FUNCTION = """CREATE FUNCTION requirement_status_digest_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM requirement_status_digest_rebuild(LEAST(OLD.version_id, NEW.version_id));
        IF OLD.version_id <> NEW.version_id THEN
            PERFORM requirement_status_digest_rebuild(GREATEST(OLD.version_id, NEW.version_id));
        END IF;
    ELSE
        PERFORM requirement_status_digest_rebuild(OLD.version_id);
    END IF;
    RETURN NULL;
END $$"""
PG_TRIGGERS = [
    "CREATE TRIGGER trg_requirement_status_digest_insert AFTER INSERT ON requirement_status"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION requirement_status_digest_inserted()",
    "CREATE TRIGGER trg_requirement_status_digest_update AFTER UPDATE ON requirement_status"
    f" FOR EACH ROW WHEN ({PG_CHANGED}) EXECUTE FUNCTION requirement_status_digest_changed()",
    "CREATE TRIGGER trg_requirement_status_digest_delete AFTER DELETE ON requirement_status"
    " FOR EACH ROW EXECUTE FUNCTION requirement_status_digest_changed()",
]
PG_BACKFILL = (
    f"INSERT INTO {TABLE} (version_id, cells) SELECT s.version_id, string_agg("
    "requirement_status_digest_record(s.requirement_id, s.owner_status, s.signee_status, s.signee_at), '')"
    " FROM requirement_status AS s GROUP BY s.version_id"
)
TRIGGERS = ("insert", "update", "delete")


def create_triggers() -> None:
    """Create the triggers (and on PostgreSQL their functions) that keep the digest."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in (PG_RECORD, PG_REBUILD, PG_INSERTED, PG_CHANGED_FUNCTION, *PG_TRIGGERS):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_triggers() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        on = " ON requirement_status" if postgresql else ""
        op.execute(f"DROP TRIGGER IF EXISTS trg_requirement_status_digest_{name}{on}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS requirement_status_digest_inserted()")
        op.execute("DROP FUNCTION IF EXISTS requirement_status_digest_changed()")
        op.execute("DROP FUNCTION IF EXISTS requirement_status_digest_rebuild(integer)")
        op.execute("DROP FUNCTION IF EXISTS requirement_status_digest_record(integer, text, text, timestamptz)")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["component_version.id"],
            name=op.f("fk_requirement_status_digest_version_id_component_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_requirement_status_digest")),
    )
    create_triggers()  # (on PostgreSQL the backfill calls the record function)
    op.execute(PG_BACKFILL if op.get_bind().dialect.name == "postgresql" else SQLITE_BACKFILL)


def downgrade() -> None:
    drop_triggers()
    op.drop_table(TABLE)

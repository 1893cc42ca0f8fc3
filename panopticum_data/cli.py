"""The ``panopticum`` command: migrate the database, load demo data, manage logins.

The database comes from ``--database-url``, else the settings (``PANOPTICUM_DATABASE_URL``,
``.streamlit/secrets.toml``, default ``sqlite:///panopticum.db``). Every failure ends with a
one-line message on stderr and a non-zero exit code (2 for a duplicate name), never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .config import SettingsError, load_settings
from .db import make_engine, read_connection, session_scope
from .demo import RegistryNotEmpty, component_count, load_demo, registry_counts
from .demo.scale import generate_scale
from .errors import DuplicateName, PanopticumError
from .queries.entities import list_people
from .services import SYSTEM, add_user, open_change_set

ROOT = Path(__file__).resolve().parent.parent  # the source checkout: alembic.ini, migrations/

app = typer.Typer(
    name="panopticum",
    help="Panopticum: the registry of software components.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Logins: people with an access role and a password.", no_args_is_help=True)
app.add_typer(user_app, name="user")


class AccessRole(StrEnum):
    admin = "admin"
    editor = "editor"
    viewer = "viewer"


@dataclass(frozen=True)
class _State:
    database_url: str | None


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL; default: PANOPTICUM_DATABASE_URL, .streamlit/secrets.toml, "
            "sqlite:///panopticum.db.",
        ),
    ] = None,
) -> None:
    ctx.obj = _State(database_url=database_url)


# --- plumbing -----------------------------------------------------------------------------------


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _failures() -> Iterator[None]:
    """Turn every error into one line on stderr and an exit code."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except DuplicateName as exc:
        _fail(str(exc), 2)
    except (PanopticumError, SettingsError) as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        hint = ""
        if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
            hint = " (run `panopticum migrate` first)"
        _fail(f"database error: {detail}{hint}")
    except Exception as exc:  # the promise: never a traceback
        _fail(f"{type(exc).__name__}: {exc}".splitlines()[0])


@contextmanager
def _engine(ctx: typer.Context) -> Iterator[Engine]:
    state: _State = ctx.obj
    settings = load_settings(database_url=state.database_url)
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        yield engine
    finally:
        engine.dispose()


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- migrate ------------------------------------------------------------------------------------


def alembic_config() -> Config:
    """Alembic's configuration with ``script_location`` as an absolute path into the checkout."""
    migrations = ROOT / "migrations"
    if not (migrations / "env.py").is_file():
        raise PanopticumError(f"migrations not found at {migrations} (run from a source checkout)")
    ini = ROOT / "alembic.ini"
    cfg = Config(str(ini)) if ini.is_file() else Config()
    cfg.set_main_option("script_location", str(migrations))
    return cfg


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest revision."""
    with _failures(), _engine(ctx) as engine:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            revision = MigrationContext.configure(conn).get_current_revision()
        typer.echo(f"{_shown(str(engine.url))}: schema at revision {revision}.")


# --- demo ---------------------------------------------------------------------------------------


@app.command()
def demo(
    ctx: typer.Context,
    scale: Annotated[
        int | None,
        typer.Option("--scale", min=1, help="Generate a synthetic registry of N components instead."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed for --scale (default 0).")] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (exit 0) when components already exist.")
    ] = False,
) -> None:
    """Load the demo registry (or, with --scale, a synthetic one) into an empty database."""
    if seed is not None and scale is None:
        _fail("--seed applies only together with --scale", 2)
    with _failures(), _engine(ctx) as engine:
        with read_connection(engine) as conn:
            existing = component_count(conn)
        if existing and if_empty:
            typer.echo(f"The registry already holds {existing} component(s): no demo data loaded.")
            return
        if existing:  # checked again inside the load's transaction
            raise RegistryNotEmpty(existing)
        started = time.perf_counter()
        if scale is not None:
            _generate(engine, scale, seed or 0)
        else:
            with session_scope(engine) as session:
                load_demo(session)
        elapsed = time.perf_counter() - started
        with read_connection(engine) as conn:
            counts = registry_counts(conn)
        what = f"synthetic registry ({scale} components, seed {seed or 0})" if scale else "demo registry"
        summary = ", ".join(f"{n} {label}" for label, n in counts.items())
        typer.echo(f"Loaded the {what} in {elapsed:.1f} s: {summary}.")
        if scale is None:
            typer.echo("Demo logins (password = username): admin, owner, expert, viewer.")


def _generate(engine: Engine, components: int, seed: int) -> None:
    columns = (
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        generate_scale(engine, components=components, seed=seed, progress=progress)


# --- users --------------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name (unique, ignoring case).")],
    role: Annotated[AccessRole, typer.Option("--role", help="Access role.")] = AccessRole.viewer,
    password: Annotated[
        str,
        typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
    ] = "",
) -> None:
    """Create a login (the password is stored as a bcrypt hash)."""
    with _failures(), _engine(ctx) as engine, session_scope(engine) as session:
        change_set = open_change_set(session, SYSTEM, source="cli", summary=f"add user {username}")
        person = add_user(
            session,
            actor=SYSTEM,
            username=username,
            access_role=role.value,
            password=password,
            change_set=change_set,
        )
        typer.echo(f"Added user {person.username!r} ({person.access_role}).")


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    role: Annotated[AccessRole | None, typer.Option("--role", help="Only this access role.")] = None,
) -> None:
    """List people with their access role."""
    with _failures(), _engine(ctx) as engine:
        with read_connection(engine) as conn:
            people = list_people(conn)
        if role is not None:
            people = people[people["access_role"] == role.value]
        table = Table("username", "name", "access role", "active", "title")
        for row in people.itertuples():
            table.add_row(
                str(row.username),
                str(row.name or ""),
                str(row.access_role),
                "yes" if row.active else "no",
                "" if row.title is None or row.title != row.title else str(row.title),
            )
        Console().print(table)
        typer.echo(f"{len(people)} {'person' if len(people) == 1 else 'people'}.")

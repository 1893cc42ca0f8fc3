"""The History page's data path and widgets: filters bound to the URL, cached pages of change sets and
events (keyed by database, data version, filters and page), the rows shaped for ``st.dataframe``, and
the downloads (CSV, Excel) of the filtered events."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from panopticum_data import queries
from panopticum_data.db import read_connection
from panopticum_data.queries import history as hq
from panopticum_data.queries.history import HistoryFilters, Page

from . import cached
from .style import component_href

BIND = "query-params"
EVENTS_PAGE_KEY = "page"
SETS_PAGE_KEY = "sets_page"
OPEN_KEY = "open"  # the change set whose events are shown (query parameter)
PICKER_LIMIT = 1000  # above this many components, the component filter is typed, not chosen
SYSTEM = "system"
EXPORT_COLUMNS = {
    "event_id": "Event",
    "change_set_id": "Change set",
    "at": "When (UTC)",
    "actor": "Who",
    "source": "Through",
    "entity": "Entity",
    "entity_id": "Entity id",
    "component": "Component",
    "action": "Action",
    "field": "Field",
    "old_value": "Old value",
    "new_value": "New value",
}


# --- cached reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    people: dict[str, str]  # username -> "Name (username)"
    entities: tuple[str, ...]
    fields: dict[str, tuple[str, ...]]  # entity -> its fields; "" -> every field


@st.cache_data(show_spinner=False, max_entries=4)
def options(url: str, version: int) -> Options:
    """The people (and "system"), and the entities and fields the trail holds."""
    with read_connection(cached.engine(url)) as conn:
        people = queries.list_people(conn)
        pairs = hq.entity_fields(conn)
    labels = {SYSTEM: "system (imports, synchronisation)"}
    for username, name in zip(people["username"], people["name"], strict=True):
        labels[str(username)] = str(name) if name == username else f"{name} ({username})"
    named = pairs[pairs["field"].notna()]
    fields = {str(e): tuple(str(f) for f in group["field"]) for e, group in named.groupby("entity")}
    fields[""] = tuple(sorted({f for fs in fields.values() for f in fs}))
    return Options(labels, tuple(sorted({str(e) for e in pairs["entity"]})), fields)


@st.cache_data(show_spinner=False, max_entries=64)
def events(
    url: str, version: int, filters: HistoryFilters, page: int, page_size: int = hq.EVENTS_PAGE
) -> Page:
    with read_connection(cached.engine(url)) as conn:
        return hq.history_events(conn, filters, page=page, page_size=page_size)


@st.cache_data(show_spinner=False, max_entries=64)
def change_sets(url: str, version: int, filters: HistoryFilters, page: int) -> Page:
    with read_connection(cached.engine(url)) as conn:
        return hq.change_sets(conn, filters, page=page)


def export(url: str, filters: HistoryFilters) -> pd.DataFrame:
    """Not cached: built when a download is asked for."""
    with read_connection(cached.engine(url)) as conn:
        return hq.export_events(conn, filters)


# --- downloads -------------------------------------------------------------------------------------


def export_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The exported columns with readable headers; times as naive UTC (Excel has no time zones)."""
    out = rows[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS)
    out["When (UTC)"] = [_naive_utc(v) for v in out["When (UTC)"]]
    return out


def _naive_utc(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def csv_bytes(rows: pd.DataFrame) -> bytes:
    return export_frame(rows).to_csv(index=False).encode("utf-8")


def excel_bytes(rows: pd.DataFrame) -> bytes:
    """One sheet "Events": bold, frozen header; streamed (write-only) to keep 100,000 rows cheap."""
    frame = export_frame(rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Events")
    ws.freeze_panes = "A2"
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(ws, value=str(name))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in frame.itertuples(index=False):
        ws.append([None if v is None or (isinstance(v, float) and v != v) else v for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def file_stem(filters: HistoryFilters) -> str:
    parts = ["history"]
    for value in (filters.person, filters.entity, filters.field, filters.component):
        if value:
            parts.append("".join(c if c.isalnum() or c in "-_." else "_" for c in value))
    if filters.change_set_id is not None:
        parts.append(f"cs{filters.change_set_id}")
    return "-".join(parts)


def downloads(url: str, filters: HistoryFilters, total: int, exact: bool) -> None:
    """CSV and Excel of the filtered events (the newest ``EXPORT_CAP``), built when clicked."""
    cap = hq.EXPORT_CAP
    row = st.columns([1, 1, 4], vertical_alignment="center")
    row[0].download_button(
        "CSV",
        lambda: csv_bytes(export(url, filters)),
        file_name=file_stem(filters) + ".csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="download_csv",
    )
    row[1].download_button(
        "Excel",
        lambda: excel_bytes(export(url, filters)),
        file_name=file_stem(filters) + ".xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
        key="download_xlsx",
    )
    if not exact or total > cap:
        row[2].caption(
            f"Downloads hold the newest {cap:,} matching events at most: narrow the filters for the rest."
        )


# --- filters ---------------------------------------------------------------------------------------


def _first_pages() -> None:
    """A widget callback: a changed filter sends both tables back to their first page."""
    st.session_state[EVENTS_PAGE_KEY] = 1
    st.session_state[SETS_PAGE_KEY] = 1
    if OPEN_KEY in st.query_params:
        del st.query_params[OPEN_KEY]


def filter_widgets(opts: Options, components: list[str]) -> tuple[HistoryFilters, list[str]]:
    """Draw the filters (keys = query parameters) and return them, with a message per bad value."""
    problems: list[str] = []
    row = st.columns(4)
    person = row[0].selectbox(
        "Person",
        list(opts.people),
        index=None,
        key="person",
        bind=BIND,
        on_change=_first_pages,
        placeholder="Anyone",
        help="The username of who made the change (it goes into the URL as it is)",
    )
    entity = row[1].selectbox(
        "Entity",
        list(opts.entities),
        index=None,
        key="entity",
        bind=BIND,
        on_change=_first_pages,
        placeholder="Any",
        help="The table the change was made in",
    )
    field = row[2].selectbox(
        "Field",
        list(opts.fields.get(entity or "", ())),
        index=None,
        key="field",
        bind=BIND,
        on_change=_first_pages,
        placeholder="Any",
    )
    change_set = row[3].number_input(
        "Change set",
        min_value=1,
        value=None,
        step=1,
        key="change_set",
        bind=BIND,
        on_change=_first_pages,
        placeholder="Any",
        help="The number of one save: all of its events",
    )
    row = st.columns(4)
    with row[0]:
        component = _component_widget(components)
    since = row[1].date_input("From", value=None, key="from", bind=BIND, on_change=_first_pages)
    until = row[2].date_input("To", value=None, key="to", bind=BIND, on_change=_first_pages)
    text = row[3].text_input(
        "Old or new value contains",
        key="text",
        bind=BIND,
        on_change=_first_pages,
        help="Searching the values reads every event the other filters keep: use it with another filter.",
    )
    if isinstance(since, date) and isinstance(until, date) and since > until:
        problems.append("The “From” date is after the “To” date: nothing can match. Swap them.")
    filters = HistoryFilters(
        person=person or None,
        entity=entity or None,
        field=field or None,
        change_set_id=int(change_set) if change_set is not None else None,
        component=component or None,
        since=_start_of(since),
        until=_start_of(until + timedelta(days=1)) if isinstance(until, date) else None,
        text=(text or "").strip() or None,
    )
    if filters.text and not narrowed(filters):
        problems.append(
            "Searching the old and new values needs another filter too (person, entity, component, "
            "change set or dates): the search was left out."
        )
        filters = replace(filters, text=None)
    return filters, problems


def _component_widget(components: list[str]) -> str | None:
    if len(components) <= PICKER_LIMIT:
        return st.selectbox(
            "Component",
            components,
            index=None,
            key="component",
            bind=BIND,
            on_change=_first_pages,
            placeholder="Any",
        )
    typed = st.text_input(
        "Component", key="component", bind=BIND, on_change=_first_pages, placeholder="Its exact name"
    )
    return typed.strip() or None


def _start_of(day: Any) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if isinstance(day, date) else None


def narrowed(f: HistoryFilters) -> bool:
    return bool(
        f.person or f.entity or f.field or f.component or f.change_set_id is not None or f.since or f.until
    )


def requested_page(key: str) -> int:
    raw = st.session_state.get(key)
    if raw is None:
        raw = st.query_params.get(key, 1)
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


# --- tables ----------------------------------------------------------------------------------------


def count_text(page: Page, noun: str) -> str:
    more = "" if page.exact else "more than "
    return f"{more}{page.total:,} {noun}{'' if page.total == 1 and page.exact else 's'}"


def sets_table(rows: pd.DataFrame, filtered: bool) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "change_set": rows["change_set_id"].astype("int64"),
            "at": pd.to_datetime(rows["at"], utc=True),
            "actor": rows["actor"].astype(object),
            "source": rows["source"].astype(object),
            "summary": rows["summary"].astype(object),
            "events": rows["events"].astype("int64"),
        }
    )
    if filtered:
        table.insert(5, "matching", rows["matching"].astype("int64"))
    return table


SETS_CONFIG = {
    "change_set": st.column_config.NumberColumn("Change set", format="%d"),
    "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm"),
    "actor": st.column_config.TextColumn("Who"),
    "source": st.column_config.TextColumn("Through"),
    "summary": st.column_config.TextColumn("Summary", width="large"),
    "matching": st.column_config.NumberColumn("Matching events"),
    "events": st.column_config.NumberColumn("Events"),
}


def events_table(rows: pd.DataFrame) -> pd.DataFrame:
    comps = [c if isinstance(c, str) else None for c in rows["component"]]
    return pd.DataFrame(
        {
            "at": pd.to_datetime(rows["at"], utc=True),
            "actor": rows["actor"].astype(object),
            "entity": rows["entity"].astype(object),
            "entity_id": rows["entity_id"].astype("Int64"),
            "component": [component_href(c) if c else None for c in comps],
            "action": rows["action"].astype(object),
            "field": rows["field"].astype(object),
            "old_value": rows["old_value"].astype(object),
            "new_value": rows["new_value"].astype(object),
            "change_set": rows["change_set_id"].astype("int64"),
            "source": rows["source"].astype(object),
        }
    )


EVENTS_CONFIG = {
    "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "actor": st.column_config.TextColumn("Who"),
    "entity": st.column_config.TextColumn("Entity"),
    "entity_id": st.column_config.NumberColumn("Id", format="%d"),
    "component": st.column_config.LinkColumn("Component", display_text=r"name=([^&]*)"),
    "action": st.column_config.TextColumn("Action"),
    "field": st.column_config.TextColumn("Field"),
    "old_value": st.column_config.TextColumn("Old value", width="medium"),
    "new_value": st.column_config.TextColumn("New value", width="medium"),
    "change_set": st.column_config.NumberColumn("Change set", format="%d"),
    "source": st.column_config.TextColumn("Through"),
}


def opened_change_set() -> int | None:
    raw = st.query_params.get(OPEN_KEY)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None

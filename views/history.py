"""History: /history[?person=&entity=&field=&change_set=&component=&from=&to=&text=&open=] — the audit
trail, newest first: change sets with their event counts (choose one to see its events) and the
matching events a page at a time, downloadable as CSV or Excel. Every filter lives in the URL."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import cached
from panopticum_ui import history as hist
from panopticum_ui.style import md_text

st.title("History")
url, version = cached.key()
filters, problems = hist.filter_widgets(hist.options(url, version), cached.component_names(url, version))
for problem in problems:
    st.warning(problem, icon=":material/filter_alt_off:")

sets = hist.change_sets(url, version, filters, hist.requested_page(hist.SETS_PAGE_KEY))
found = hist.events(url, version, filters, hist.requested_page(hist.EVENTS_PAGE_KEY))
sets_tab, events_tab = st.tabs(
    [f"Change sets ({hist.count_text(sets, 'change set')})", f"Events ({hist.count_text(found, 'event')})"]
)

with sets_tab:
    if sets.rows.empty:
        st.info("No change set matches the filters.", icon=":material/history:")
    else:
        st.caption("Newest first. Choose a row to see its events below.")
        table = hist.sets_table(sets.rows, filters.on_events)
        key = f"sets_table_{sets.page}"

        def on_select() -> None:
            if not st.session_state[key]["selection"]["rows"] and hist.OPEN_KEY in st.query_params:
                del st.query_params[hist.OPEN_KEY]

        state = st.dataframe(
            table,
            column_config=hist.SETS_CONFIG,
            hide_index=True,
            on_select=on_select,
            selection_mode="single-row",
            key=key,
        )
        chosen = state["selection"]["rows"]
        if chosen:
            st.query_params[hist.OPEN_KEY] = str(int(table["change_set"].iloc[chosen[0]]))
        st.pagination(sets.pages, key=hist.SETS_PAGE_KEY, bind=hist.BIND)
    opened = hist.opened_change_set()
    if opened is not None:
        inside = hist.events(url, version, hist.HistoryFilters(change_set_id=opened), 1, 1000)
        with st.container(border=True):
            if inside.rows.empty:
                st.warning(f"Change set {opened} has no events (or does not exist).")
            else:
                first = inside.rows.iloc[0]
                st.markdown(
                    f"**Change set {opened}** · {md_text(first['actor'])} · through {md_text(first['source'])}"
                    f" · {hist.count_text(inside, 'event')}"
                )
                st.dataframe(
                    hist.events_table(inside.rows), column_config=hist.EVENTS_CONFIG, hide_index=True
                )
                if inside.total > len(inside.rows):
                    st.caption(
                        f"The newest {len(inside.rows):,}: enter {opened} as the change set filter to page "
                        "through them all in Events."
                    )

with events_tab:
    if found.rows.empty:
        st.info("No event matches the filters.", icon=":material/history:")
    else:
        st.dataframe(hist.events_table(found.rows), column_config=hist.EVENTS_CONFIG, hide_index=True)
        st.pagination(found.pages, key=hist.EVENTS_PAGE_KEY, bind=hist.BIND)
        if not found.exact:
            st.caption(
                f"Counting stops at {found.total:,}: the pages go that far. Narrow the filters for older events."
            )
        hist.downloads(url, filters, found.total, found.exact)

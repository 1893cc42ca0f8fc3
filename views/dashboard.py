"""Components dashboard: filters bound to the URL, summary tiles, one page of the table, a chart."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import cached, charts, dashboard, filters

st.title("Components")
url, version = cached.key()
if not cached.component_count(url, version):
    st.info("The registry is empty. Load the demo with `panopticum demo`.", icon=":material/inbox:")
    st.stop()

chosen = filters.render_filters(cached.filter_options(url, version))
data = dashboard.dashboard_data(chosen, page=filters.requested_page(), page_size=filters.requested_size())

tiles = st.columns(3)
tiles[0].metric(
    "Components", f"{data.total:,}", help=f"of {data.registry_size:,} in the registry", border=True
)
tiles[1].metric(
    "Average rating", "–" if data.average_rating is None else f"{data.average_rating:.0f}", border=True
)
tiles[2].metric(
    "Fully signed",
    "–" if data.fully_signed_share is None else f"{data.fully_signed_share:.0%}",
    help="Components whose every applicable requirement set is ready (signed off, or n/a).",
    border=True,
)

table = st.empty()
with st.container(horizontal=True, vertical_alignment="bottom"):
    page = filters.page_widget(data.pages)
    where = st.empty()
    st.space("stretch")
    size = filters.page_size_widget()
if (page, size) != (data.page, data.page_size):  # the widgets had the last word (first load)
    data = dashboard.dashboard_data(chosen, page=page, page_size=size)
where.caption(f"{data.total:,} components · page {data.page} of {data.pages}")
if data.total:
    table.dataframe(**dashboard.table(data))
    st.subheader("Rating by category")
    st.plotly_chart(charts.rating_by_category(data.by_category), key="rating_chart")
else:
    table.info("No component matches these filters.", icon=":material/filter_alt_off:")

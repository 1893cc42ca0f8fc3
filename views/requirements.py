"""Requirements: every component × every requirement set, coloured by set status, with the share
ready per set and per category. The dashboard's filters apply (and live in the URL)."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import cached, filters
from panopticum_ui import signoff as so
from panopticum_ui.style import md_page_link, set_href

st.title("Requirements")
url, version = cached.key()
all_sets = so.sets(url, version)
if not all_sets:
    st.info("No requirement sets are defined yet.", icon=":material/inbox:")
    st.stop()
st.markdown(
    "Sets: " + " · ".join(md_page_link(s.name, set_href(s.name)) for s in all_sets),
    help="Open a set for its heat-map of requirements, and to sign off or claim.",
)
with st.expander("Filters", icon=":material/filter_alt:"):
    chosen = filters.render_filters(cached.filter_options(url, version))
frame = so.all_sets_filtered(url, version, chosen)
if not len(frame):
    st.info("No component matches these filters.", icon=":material/filter_alt_off:")
    st.stop()

by_set, by_category = so.shares(frame)
left, right = st.columns([2, 3])
with left:
    st.subheader("Share ready per set")
    st.plotly_chart(so.share_by_set_figure(by_set), key="share_by_set")
    st.caption("Components whose set status is ready, of those the set applies to (n/a excluded).")
with right:
    st.subheader("Share ready per category")
    st.plotly_chart(so.share_by_category_figure(by_category), key="share_by_category")

st.subheader("Components × sets")
pages = max(1, -(-len(frame) // so.PAGE_ROWS))
page = min(filters.requested_page(), pages)
chunk = frame.iloc[(page - 1) * so.PAGE_ROWS : page * so.PAGE_ROWS]
chunk.attrs = dict(frame.attrs)
rest = len(frame) - (page - 1) * so.PAGE_ROWS - len(chunk)
st.caption(
    f"Components {(page - 1) * so.PAGE_ROWS + 1:,}–{(page - 1) * so.PAGE_ROWS + len(chunk):,} of {len(frame):,}"
    + (f" · {rest:,} more on the next pages" if rest else "")
)
st.plotly_chart(so.all_sets_figure(chunk), key="all_sets_heatmap", config={"displaylogo": False})
with st.container(horizontal=True, vertical_alignment="bottom"):
    filters.page_widget(pages)
    st.caption(f"{so.PAGE_ROWS} components per page")

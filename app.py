"""Panopticum: the registry of the organisation's software components (entry point)."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import cached

settings = cached.settings()
st.set_page_config(page_title=settings.title, page_icon=":material/hub:", layout="wide")
st.title(settings.title)

frame = cached.overview(settings.database_url, cached.data_version())
st.caption(f"{len(frame)} components")
if frame.empty:
    st.info("The registry is empty. Load the demo with `panopticum demo`.")
else:
    set_columns = frame.attrs.get("set_columns", [])
    st.dataframe(
        frame[
            [
                "name",
                "version",
                "category",
                "type",
                "life_status",
                "maintainer",
                "rating",
                "completeness",
                "qa_score",
                *set_columns,
            ]
        ],
        hide_index=True,
        column_config={
            "rating": st.column_config.ProgressColumn("Rating", min_value=0, max_value=100, format="%d"),
            "completeness": st.column_config.ProgressColumn(
                "Completeness", min_value=0, max_value=100, format="%d"
            ),
            "qa_score": st.column_config.ProgressColumn("QA", min_value=0, max_value=100, format="%d"),
        },
    )

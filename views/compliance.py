"""Compliance over time: per set, the share of applicable (component, requirement) pairs ready, week
by week from the audit trail; below, a set's heat-map as of a chosen date. Weeks, set and date live
in the URL (``?weeks=52&heatmap_set=Security%20%26%20Compliance&as_of=2026-09-30``)."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import cached, compliance
from panopticum_ui.style import OKABE_ITO, md_text

st.title("Compliance over time")
url, version = cached.key()
names = compliance.set_names(url, version)
if not names:
    st.info("No requirement set has requirements yet.", icon=":material/checklist:")
    st.stop()

weeks = compliance.weeks_widget()
data = compliance.trend(url, version, weeks)
if data.empty:
    st.info("No component has a current version yet: nothing to count.", icon=":material/inbox:")
else:
    st.plotly_chart(compliance.trend_figure(data), key="trend_chart")
    st.caption(
        "Share of the applicable (component, requirement) pairs whose overall status was ready or n/a "
        "at the end of each week, rebuilt from the audit trail. Today's components, requirements, "
        "validity and exclusions are used for every week."
    )
    st.dataframe(
        compliance.latest_week(data),
        hide_index=True,
        column_config={
            "set": st.column_config.TextColumn("Set"),
            "ready": st.column_config.NumberColumn("Ready pairs"),
            "applicable": st.column_config.NumberColumn("Applicable pairs"),
            "share": st.column_config.ProgressColumn(
                "Ready", min_value=0, max_value=100, format="%.1f %%", color=OKABE_ITO["bluish_green"]
            ),
        },
    )

st.subheader("Heat-map as of")
set_name, day = compliance.as_of_widgets(names)
heatmap = compliance.heatmap_as_of(url, version, set_name, day)
if heatmap is None:
    st.warning(f"The set {md_text(set_name)} does not exist any more: choose another.")
elif not heatmap.components or not heatmap.requirements:
    st.info("Nothing to show for this set.", icon=":material/grid_off:")
else:
    st.plotly_chart(compliance.heatmap_figure(heatmap), key="as_of_heatmap")
    if heatmap.remaining:
        st.caption(
            f"{heatmap.remaining:,} more components not shown (the first {len(heatmap.components)} by name)."
        )

"""Admin: reference data (/reference?table=<name>): one grid per table, merge two rows into one.

Registered for admins only; the services check again. A save is one transaction and one change
set; a refused save keeps what was typed in the grid.
"""

from __future__ import annotations

import streamlit as st

from panopticum_ui import auth, cached, grids
from panopticum_ui import reference as ref
from panopticum_ui.style import md_text

st.title("Reference data")
user = auth.current_user()
if user is None or not user.is_admin:
    st.warning("Only administrators edit reference data.", icon=":material/lock:")
    st.stop()

table = ref.table_picker()
title = ref.TITLES[table]
snap = ref.snapshot(table)
st.caption(
    f"{title}: add rows at the end, change cells, delete rows (a row in use cannot be deleted: merge "
    "it into another instead). Nothing is written until you save; a save is all or nothing."
)
with st.form(f"reference_form_{table}", border=False):
    st.data_editor(
        snap.shown,
        key=snap.key,
        num_rows="dynamic",
        placeholder="–",
        hide_index=True,
        column_order=ref.column_order(table),
        column_config=ref.columns(table, ref.parents(table)),
    )
    st.form_submit_button(
        f"Save {title.lower()}", key="save_reference", on_click=ref.save, args=(table,), type="primary"
    )
grids.show(snap)
ref.grid_buttons(table, snap)

st.subheader("Merge two rows")
st.caption("Everything that refers to the first row moves to the second; then the first is deleted.")
fresh = ref.cached_rows(*cached.key(), table).frame
used = dict(zip(fresh["name"], fresh["used_by"], strict=True))
names = [str(n) for n in fresh["name"]]
left, right, button = st.columns([3, 3, 1], vertical_alignment="bottom")
source = left.selectbox(
    "Merge this row",
    names,
    index=None,
    key=f"merge_source_{table}",
    format_func=lambda n: f"{n} (used by {used.get(n, 0)})",
)
target = right.selectbox(
    "into this row",
    [n for n in names if n != source],
    index=None,
    key=f"merge_target_{table}",
    format_func=lambda n: f"{n} (used by {used.get(n, 0)})",
)
button.button(
    "Merge…",
    key="merge_open",
    disabled=source is None or target is None,
    on_click=ref.open_merge,
    args=(table, source, target),
)


@st.dialog("Merge two rows", on_dismiss=ref.close_merge)
def confirm_merge(source: str, target: str) -> None:
    st.markdown(f"Merge **{md_text(source)}** into **{md_text(target)}** ({md_text(title.lower())}).")
    try:
        counts = ref.usage(table, source)
    except ref.PanopticumError as error:
        st.error(md_text(str(error)), icon=":material/error:")
        counts = None
    if counts:
        st.caption(f"These rows will refer to {md_text(target)} instead:")
        st.dataframe(ref.usage_frame(counts), hide_index=True)
    elif counts is not None:
        st.caption("Nothing refers to it: it is simply deleted.")
    st.caption(f"Then {md_text(source)} is deleted. The audit trail records every moved reference.")
    yes, no = st.columns(2)
    if yes.button("Merge", key="merge_confirm", type="primary", disabled=counts is None):
        ref.merge(table, source, target)
        st.rerun()
    if no.button("Cancel", key="merge_cancel"):
        ref.close_merge()
        st.rerun()


ref.show_merge(table)
pending = ref.pending_merge(table)
if pending is not None:
    confirm_merge(*pending)

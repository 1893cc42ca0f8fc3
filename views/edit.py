"""Edit: the registry in grids (/edit?grid=components|tags|versions|owners|dependencies|deployments|
qa|endpoints, narrowed with the dashboard's filters, e.g. ``&q=pay``).

Registered for logged-in people. Owners change the rows of their components; editors and admins all
rows; the services check again. A save is one transaction and one change set; a save refused
because someone else changed a row keeps what was typed, to re-apply after a reload.
"""

from __future__ import annotations

import streamlit as st

from panopticum_ui import auth, cached, filters, grids
from panopticum_ui import edit as model

st.title("Edit the registry")
user = auth.current_user()
if user is None:
    st.warning("Log in to edit the registry.", icon=":material/lock:")
    st.stop()
url, version = cached.key()
grid = st.segmented_control(
    "Grid",
    model.GRIDS,
    format_func=lambda g: model.GRID_TITLES[g],
    key="grid",
    bind="query-params",
    default="components",
    required=True,
)
grid = grid if grid in model.GRIDS else "components"
with st.expander("Filters", icon=":material/filter_alt:"):
    chosen = filters.render_filters(cached.filter_options(url, version))
where = model.scope(grid, chosen, filters.requested_page())
if not where.component_ids:
    st.info("No component matches these filters.", icon=":material/filter_alt_off:")
    st.stop()
ctx = model.context(where, user.username)
spec = model.SPECS[grid]
if ctx.editable is not None:
    st.caption(
        "You may change the components you own; the other rows are shown read-only below the grid "
        "(editors and administrators change every component)."
    )
snap = model.grid_snapshot(where, ctx, user.username)
num_rows = (
    "dynamic" if spec.can_add and spec.can_delete and (ctx.is_editor or grid != "components") else "fixed"
)
with st.form(f"edit_{grid}_form", border=False):
    st.data_editor(
        snap.shown,
        key=snap.key,
        num_rows=num_rows,
        hide_index=True,
        placeholder="–",
        column_order=model.column_order(grid),
        column_config=model.column_config(grid, ctx, model.editable_names(ctx)),
    )
    st.form_submit_button(
        f"Save {model.GRID_TITLES[grid].lower()}",
        key="save_grid",
        on_click=model.save_grid,
        args=(where, user.username),
        type="primary",
    )
grids.show(snap)
with st.container(horizontal=True):
    if snap.stale:
        st.button(
            "Reload and keep my edits",
            key="reload_grid",
            on_click=model.reload_grid,
            args=(where, user.username),
            icon=":material/refresh:",
        )
    st.button("Discard my edits", key="discard_grid", on_click=model.discard_grid, args=(where,))
st.caption(f"{where.total:,} components · page {where.page} of {where.pages}")
if where.pages > 1:
    filters.page_widget(where.pages)
others = model.read_only(where, ctx)
if len(others):
    st.subheader("Read-only: components you do not own")
    st.dataframe(others, hide_index=True, column_order=model.column_order(grid))

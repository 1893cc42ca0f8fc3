"""Requirement set page: /requirement_set?name=<set>[&view=heatmap|table|sign|claim]
[&req=<requirement>&party=owner|signee|overall&status=<status>] plus the dashboard's filters
(``q``, ``category``, …) and ``page``. Everything on it is in the URL, so a copied link reopens it."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import auth, cached, filters, navigation
from panopticum_ui import signoff as so
from panopticum_ui.style import md_link, md_text, safe_markdown

BIND = filters.BIND

url, version = cached.key()
user = auth.current_user()
all_sets = so.sets(url, version)
if not all_sets:
    st.title("Requirement set")
    st.info("No requirement sets are defined yet.", icon=":material/inbox:")
    st.stop()

# the set: a typed or pasted name is matched without regard to case. (The widget cannot be bound to
# ``name`` itself: the login library keeps the person's name in st.session_state["name"].)
requested = st.query_params.get("name", "")
info = so.find_set(url, version, requested) if requested else None
if requested and info is None:
    st.warning(f"No requirement set **{md_text(requested)}**.", icon=":material/search_off:")
names = [s.name for s in all_sets]


def choose_set() -> None:
    st.query_params["name"] = st.session_state["set_choice"]
    filters.back_to_first_page()


if info is not None:
    st.session_state["set_choice"] = info.name
    st.query_params["name"] = info.name
st.selectbox(
    "Requirement set",
    names,
    index=None,
    key="set_choice",
    placeholder="Choose a requirement set",
    on_change=choose_set,
)
if info is None:
    st.stop()

st.title(md_text(info.name))
facts = [
    f"**Signed off by** {md_text(', '.join(info.signer_groups)) if info.signer_groups else 'nobody yet'}",
    f"**Sign-offs valid** {f'{info.validity_days} days' if info.validity_days else 'until changed'}",
    f"**Requirements** {len(info.requirements)}",
]
if info.doc_link:
    facts.append(md_link("Documentation", info.doc_link))
st.markdown(" · ".join(facts))
if info.description:
    st.markdown(safe_markdown(info.description))

# --- filters -----------------------------------------------------------------------------------------
with st.expander("Filters", icon=":material/filter_alt:"):
    chosen_filters = filters.render_filters(cached.filter_options(url, version))
    row = st.columns([3, 1, 1])
    requirement = row[0].selectbox(
        "Requirement",
        info.requirements,
        index=None,
        key="req",
        bind=BIND,
        placeholder="Any requirement",
        on_change=filters.back_to_first_page,
    )
    party = row[1].selectbox(
        "Whose status",
        tuple(so.PARTY_LABELS),
        key="party",
        bind=BIND,
        on_change=filters.back_to_first_page,
    )
    status = row[2].selectbox(
        "Status",
        so.PARTY_STATUSES[party or "overall"],
        index=None,
        key="status",
        bind=BIND,
        format_func=lambda s: so.STATUS_LABELS.get(s, s),
        placeholder="Any status",
        on_change=filters.back_to_first_page,
    )
status_filters = so.status_filters(requirement, party, status)

rights = so.rights(url, user.username if user else None, info.set_id)
offered = ["heat-map", "table"]
if rights.may_sign:
    offered.append("sign")
if rights.claim_components is None or rights.claim_components:
    offered.append("claim")
lost = st.session_state.get("view")
if lost is not None and lost not in offered:  # rights read afresh on every rerun: they can shrink
    st.session_state["view"] = "heat-map"
    st.warning(
        f"You may no longer use the {lost} grid of this set"
        + (": nothing was saved." if st.session_state.get(f"signoff_grid_{lost}") else "."),
        icon=":material/lock:",
    )
    st.session_state.pop(f"signoff_grid_{lost}", None)
view = st.segmented_control(  # options are their own labels: a bound widget puts its label in the URL
    "View",
    offered,
    default="heat-map",
    key="view",
    bind=BIND,
    required=True,
    help="sign: give verdicts (signer groups); claim: set owner claims (owners of the components)",
)

page_number = filters.requested_page()
hm = so.heatmap(url, version, info.set_id, chosen_filters, status_filters, (page_number - 1) * so.PAGE_ROWS)
pages = max(1, -(-hm.total // so.PAGE_ROWS))
if hm.total and hm.offset >= hm.total:  # a page beyond the last one (URL): show the last
    page_number = pages
    hm = so.heatmap(url, version, info.set_id, chosen_filters, status_filters, (pages - 1) * so.PAGE_ROWS)

if not hm.total:
    st.info("No component matches these filters.", icon=":material/filter_alt_off:")
    st.stop()
shown_from, shown_to = hm.offset + 1, hm.offset + len(hm.components)
where = f"Components {shown_from:,}–{shown_to:,} of {hm.total:,}" + (
    f" · {hm.remaining:,} more on the next pages" if hm.remaining else ""
)


def open_component() -> None:
    target = st.session_state.get("open_component")
    if target:
        st.switch_page(navigation.page("component"), query_params={"name": target})


if view == "heat-map":
    st.caption(where)
    st.plotly_chart(so.heatmap_figure(hm), key="set_heatmap", config={"displaylogo": False})
    st.selectbox(
        "Open a component",
        hm.components,
        index=None,
        key="open_component",
        placeholder="Choose a component to open its page",
        on_change=open_component,
    )
elif view == "table":
    st.caption(where)
    table, config = so.table_view(hm)
    st.dataframe(table, column_config=config, hide_index=True)
else:
    mode: so.Mode = "sign" if view == "sign" else "claim"
    page_components = list(dict.fromkeys(zip(hm.cells["component_id"], hm.cells["version_id"], strict=True)))
    if mode == "claim" and rights.claim_components is not None:
        page_components = [(c, v) for c, v in page_components if int(c) in rights.claim_components]
    version_ids = tuple(int(v) for _, v in page_components)
    only_open = st.toggle(
        "Only claims awaiting a verdict" if mode == "sign" else "Only requirements that need my attention",
        value=mode == "sign",
        key=f"grid_open_{mode}",
        help=(
            "Claims of ready or n/a with no verdict yet, or an expired one."
            if mode == "sign"
            else "Requirements whose overall status is unknown or not ready."
        ),
    )
    snap_key = f"signoff_grid_{mode}"
    scope = (mode, info.set_id, version_ids, only_open)
    snap: so.Snapshot | None = st.session_state.get(snap_key)
    if snap is None or snap.scope != scope:
        # other rows: a new editor (the old one's edits are by position and would land on them)
        generation = 0 if snap is None else snap.generation + 1
        dropped = snap is not None and so.has_edits(
            st.session_state.get(so.editor_key(mode, snap.generation))
        )
        if snap is not None:
            st.session_state.pop(so.editor_key(mode, snap.generation), None)
        rows = so.read_grid_rows(url, info.set_id, version_ids, mode, only_open)
        snap = so.Snapshot(scope, rows, rows.copy(), generation=generation)
        if dropped:
            snap.messages = [
                "Your edits were not saved: the grid's rows changed (filters, page, or someone "
                "else's change to what matches them). Nothing was written; please enter them again."
            ]
        st.session_state[snap_key] = snap
    if mode == "claim" and not version_ids:
        st.info("None of the components on this page is yours to claim.", icon=":material/person_off:")
        st.stop()
    st.caption(
        f"{where} · {len(snap.shown):,} rows to "
        + ("sign" if mode == "sign" else "claim")
        + (
            f" (at most {so.GRID_ROWS:,}: narrow the filters for more)"
            if len(snap.shown) >= so.GRID_ROWS
            else ""
        )
    )
    if not len(snap.shown):
        st.success("Nothing is waiting here.", icon=":material/task_alt:")
        st.stop()
    config, disabled = so.grid_config(mode)
    with st.form(f"{snap_key}_form", border=False):
        edited = st.data_editor(
            snap.shown,
            key=so.editor_key(mode, snap.generation),
            column_config=config,
            disabled=disabled,
            hide_index=True,
            num_rows="fixed",
        )
        submitted = st.form_submit_button(
            "Save", type="primary", icon=":material/save:", key=f"{snap_key}_save"
        )
    if submitted:
        saved = so.save(mode, snap, edited, info.set_id)
        if saved == 0:
            snap.messages = ["Nothing to save: no cell was changed."]
        elif saved:
            st.session_state.pop(snap_key, None)
            st.session_state.pop(so.editor_key(mode, snap.generation), None)
            st.toast(f"Saved {saved} rows.", icon=":material/check_circle:")
            st.rerun()
    for message in snap.messages[:1]:
        st.error(message, icon=":material/error:")
    if len(snap.messages) > 1:
        st.markdown("\n".join(f"- {md_text(m)}" for m in snap.messages[1:]))
    if snap.stale and st.button(
        "Reload, keep what I typed", icon=":material/refresh:", key=f"{snap_key}_reload"
    ):
        fresh = so.read_grid_rows(url, info.set_id, version_ids, mode, only_open)
        shown = so.reapply(snap.base, edited, fresh, mode)
        st.session_state.pop(so.editor_key(mode, snap.generation), None)
        st.session_state[snap_key] = so.Snapshot(scope, fresh, shown, generation=snap.generation + 1)
        st.rerun()

with st.container(horizontal=True, vertical_alignment="bottom"):
    filters.page_widget(pages)
    st.caption(f"{so.PAGE_ROWS} components per page")

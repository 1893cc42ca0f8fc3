"""Component page: /component?name=<name>[&version=<version>] (a link can be typed or pasted)."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import auth, cached, component, component_as_of, navigation, widgets
from panopticum_ui.style import md_text, safe_markdown

name = st.query_params.get("name", "")
data = component.component_page_data(name, st.query_params.get("version")) if name else None
if data is None:
    st.title("Component")
    if name:
        st.warning(
            f"No component **{md_text(name)}** (or no such version of it).", icon=":material/search_off:"
        )
    widgets.component_picker(cached.component_names(*cached.key()))
    st.stop()

comp, ver = data.component, data.version
user = auth.current_user()
head = st.columns([6, 1], vertical_alignment="center")
head[0].title(md_text(comp["name"]))
may_edit = cached.may_edit_component(user.username if user else None, int(comp["component_id"]))
if may_edit and head[1].button(
    "Edit", key="edit_component", icon=":material/edit:", help="Edit this component in the grids"
):
    st.switch_page(navigation.page("edit"), query_params={"grid": "components", "q": comp["name"]})
st.markdown(" · ".join(f"**{label}** {md_text(value)}" for label, value in data.facts))
if comp.get("tags"):
    with st.container(horizontal=True, gap="small"):
        for tag in comp["tags"]:
            st.badge(md_text(tag), icon=":material/sell:", color="gray")

top = st.columns([1, 3])
with top[0]:
    widgets.version_picker(data)
with top[1]:
    if ver.get("comments"):
        st.caption(md_text(ver["comments"]))
st.markdown(safe_markdown(comp.get("description")) or ":gray[No description yet.]")

widgets.scores(data.scores)

profile, reqs, deps, deploys, history = st.tabs(
    [
        "Profile",
        f"Requirements ({len(data.sets)})",
        f"Dependencies ({len(data.dependencies)} / {len(data.dependents)})",
        f"Deployments ({len(data.deployments)})",
        f"History ({len(data.history)})",
    ]
)
with profile:
    widgets.profile(data)
with reqs:
    editable_version = int(ver["version_id"]) if may_edit else None
    for i, card in enumerate(data.sets):
        widgets.set_card(card, version_id=editable_version, index=i)
    if not data.sets:
        st.caption("No requirement sets are defined yet.")
with deps:
    widgets.dependencies(data)
with deploys:
    widgets.deployments(data)
with history:
    widgets.history(data)
    component_as_of.section(data)

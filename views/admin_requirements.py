"""Admin: requirement sets and their requirements, edited in grids (/admin_requirements[?set=<name>]).

Registered for admins only; the services check again. Each grid saves in one transaction and one
change set; a refused save keeps what was typed in the grid.
"""

from __future__ import annotations

import streamlit as st

from panopticum_ui import admin_requirements as admin
from panopticum_ui import auth
from panopticum_ui.style import md_text, safe_markdown

st.title("Requirement sets")
user = auth.current_user()
if user is None or not user.is_admin:
    st.warning("Only administrators edit requirement sets.", icon=":material/lock:")
    st.stop()

sets = admin.sets_grid()
st.caption(
    "Add a set in the last row. Description: Markdown. Validity: the days a sign-off holds (empty: "
    "never expires). Sets are not deleted here."
)
with st.form("admin_sets_form", border=False):
    st.data_editor(
        sets.frame,
        key=sets.key,
        num_rows="add",
        placeholder="–",
        hide_index=True,
        column_order=admin.SET_ORDER,
        column_config=admin.sets_columns(admin.signer_group_options(sets.frame)),
    )
    st.form_submit_button("Save requirement sets", key="save_sets", on_click=admin.save_sets, type="primary")
admin.show("sets")
admin.reload_button("sets", sets)

names = [str(n) for n in sets.frame["name"]]
chosen = admin.set_picker(names)
if chosen is None:
    st.info("No requirement sets yet: add one in the grid above.", icon=":material/inbox:")
    st.stop()
row = names.index(chosen)
set_id = int(sets.frame.iloc[row]["set_id"])
with st.container(border=True):
    st.caption(f"Description of {md_text(chosen)}, as in the grid")
    description = admin.cell(sets.frame, st.session_state.get(sets.key) or {}, row, "description")
    st.markdown(safe_markdown(admin.norm(description)) or ":gray[No description yet.]")

st.subheader(f"Requirements of {md_text(chosen)}")
st.caption(
    "Position in set: a requirement's place (1 is the first); type another to move it there, the "
    "others keep their order. Add a requirement in the last row. Requirements are not deleted here."
)
requirements = admin.requirements_grid(set_id)
with st.form("admin_requirements_form", border=False):
    st.data_editor(
        requirements.frame,
        key=requirements.key,
        num_rows="add",
        placeholder="–",
        hide_index=True,
        column_order=admin.REQUIREMENT_ORDER,
        column_config=admin.requirements_columns(names),
    )
    st.form_submit_button(
        "Save requirements",
        key="save_requirements",
        on_click=admin.save_requirements,
        args=(set_id, chosen),
        type="primary",
    )
admin.show(f"requirements_{set_id}")
admin.reload_button(f"requirements_{set_id}", requirements)

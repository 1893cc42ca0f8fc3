"""Panopticum: the registry of the organisation's software components (entry point).

Order matters: login (sidebar) -> navigation with every page this visitor may open -> gate ->
the page. The navigation is built before the gate so that a pasted link such as
``/component?name=Payment%20Service`` opens its page right after the login.
"""

from __future__ import annotations

import streamlit as st

from panopticum_ui import auth, cached, navigation

settings = cached.settings()
st.set_page_config(page_title=settings.title, page_icon=":material/hub:", layout="wide")

user = auth.login_sidebar()
readable = auth.may_read(user)
page, permitted = navigation.build(user, may_read=readable)

if not readable:
    st.title(settings.title)
    st.info("Log in with the form in the sidebar to see the registry.", icon=":material/lock:")
    st.stop()
if not permitted:
    st.title(page.title)
    st.warning(
        f"This page is for {navigation.requirement(page.url_path)}"
        + ("; log in with the form in the sidebar." if user is None else "."),
        icon=":material/lock:",
    )
    st.stop()

page.run()

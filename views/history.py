"""Placeholder while the page is being built (issue 5)."""

import streamlit as st

st.title("history")
st.info("This page is being built.")

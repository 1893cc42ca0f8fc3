"""Placeholder while the page is being built (issue 4)."""

import streamlit as st

st.title("my_work")
st.info("This page is being built.")

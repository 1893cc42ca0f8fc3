"""Placeholder while the page is being built (issue 5)."""

import streamlit as st

st.title("reference")
st.info("This page is being built.")

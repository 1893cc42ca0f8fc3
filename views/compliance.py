"""Placeholder while the page is being built (issue 4)."""

import streamlit as st

st.title("compliance")
st.info("This page is being built.")

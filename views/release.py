"""Release readiness: /release?product=<product version> — is every component version deployed in it
signed off, and if not, what blocks and who must act. Downloadable as Excel."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import cached, release
from panopticum_ui.style import md_text

st.title("Release readiness")
url, version = cached.key()
names = release.product_versions(url, version)
if not names:
    st.info("No product versions yet: add product families and versions first.", icon=":material/inbox:")
    st.stop()

unknown = release.match_requested(names)
if unknown is not None:
    st.warning(f"No product version **{md_text(unknown)}**. Choose one below.", icon=":material/search_off:")
product = st.selectbox(
    "Product version",
    names,
    index=None,
    key=release.QUERY_KEY,
    bind="query-params",
    placeholder="Choose a product version",
)
if product is None:
    st.info(
        "Choose a product version to see whether it is ready for release.", icon=":material/rocket_launch:"
    )
    st.stop()

readiness = release.readiness(url, version, product)
if readiness is None:  # removed since the list was read
    st.warning(f"No product version **{md_text(product)}**.", icon=":material/search_off:")
    st.stop()

release.show_verdict(readiness)
st.download_button(
    "Download Excel",
    data=lambda: release.workbook(readiness),  # built on click, from the cached readiness
    file_name=release.file_name(readiness),
    mime=release.XLSX_MIME,
    icon=":material/download:",
    on_click="ignore",
    key="release_excel",
)

st.subheader(f"Components ({len(readiness.components):,})")
if len(readiness.components):
    st.dataframe(
        release.styled(release.components_rows(readiness)),
        column_config=release.components_config(readiness),
        hide_index=True,
        key="release_components",
    )
else:
    st.caption("No component version is deployed in this product version.")

st.subheader(f"Blocking requirements ({len(readiness.blocking):,})")
if len(readiness.blocking):
    table, chart = st.columns([2, 1])
    with table:
        st.dataframe(
            release.styled(release.blocking_rows(readiness)),
            column_config=release.blocking_config(),
            hide_index=True,
            key="release_blocking",
        )
    with chart:
        st.plotly_chart(release.blocking_chart(readiness), key="release_chart")
else:
    st.caption("Nothing blocks: every applicable requirement is signed off (ready or n/a).")

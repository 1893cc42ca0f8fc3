"""Small pieces of layout shared by pages: people with photos or initials, status badges, lists of
links, styled tables. All user text goes through ``style.md_text`` or into DataFrame cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from panopticum_data.scoring import band

from . import component, navigation
from .component import ComponentPage, Link, Person, SetCard
from .style import BAND_LABELS, initials_svg, mark, mark_colour, md_link, md_page_link, md_text, set_href

BADGE_COLOURS = {
    "ready": "green",
    "n/a": "gray",
    "waiting": "blue",
    "waiting_na": "blue",
    "not_ready": "orange",
    "unknown": "gray",
}


def people(persons: Sequence[Person]) -> None:
    """People side by side: photo (or a round avatar with initials), name and username."""
    with st.container(horizontal=True, gap="medium"):
        for person in persons:
            with st.container(horizontal=True, gap="small", vertical_alignment="center", width="content"):
                st.image(person.photo or initials_svg(person.name), width=36)
                st.markdown(f"{md_text(person.name)}  \n:gray[{md_text(person.username)}]")


def status_badge(status: str, *, prefix: str = "") -> None:
    st.badge(f"{prefix}{mark(status)}", color=BADGE_COLOURS.get(status, "gray"))  # type: ignore[arg-type]


def links(items: Sequence[Link]) -> None:
    """One line per link: icon, kind, and the link (only http(s) and mailto URLs get here)."""
    lines = [f"{item.icon} {md_link(item.label, item.url)} :gray[{md_text(item.text)}]" for item in items]
    st.markdown("  \n".join(lines))


def styled(frame: pd.DataFrame, marks: Sequence[str]) -> Styler | pd.DataFrame:
    """Colour the status marks of these columns (symbol and word stay: colour is only a help)."""
    present = [c for c in marks if c in frame]
    if frame.empty or not present:
        return frame
    return frame.style.map(mark_colour, subset=present)


def table(frame: pd.DataFrame, config: dict[str, Any], *, marks: Sequence[str] = ()) -> None:
    st.dataframe(styled(frame, marks), column_config=config, hide_index=True)


def bullet_list(items: Sequence[str], *, empty: str) -> None:
    if not items:
        st.caption(empty)
        return
    st.markdown("\n".join(f"- {md_text(item)}" for item in items))


# --- the component page -------------------------------------------------------------------------


PICKER_LIMIT = 1000  # above this many components, search instead of shipping every name
SEARCH_HITS = 20


def component_picker(names: Sequence[str]) -> None:
    """Choose a component: puts ``?name=`` into the URL, which opens its page. A big registry gets
    a search box and the first matches as links instead of a list of every name."""

    def go() -> None:
        chosen = st.session_state.get("component_picker")
        if chosen:
            st.query_params["name"] = chosen
            if "version" in st.query_params:
                del st.query_params["version"]

    if len(names) <= PICKER_LIMIT:
        st.selectbox(
            "Open a component",
            list(names),
            index=None,
            key="component_picker",
            on_change=go,
            placeholder="Type a name",
        )
        return
    needle = st.text_input("Find a component", key="component_search", placeholder="Part of its name")
    if not needle.strip():
        return
    hits = [n for n in names if needle.strip().lower() in n.lower()]
    for name in hits[:SEARCH_HITS]:
        st.page_link(navigation.page("component"), label=md_text(name), query_params={"name": name})
    if len(hits) > SEARCH_HITS:
        st.caption(f"… and {len(hits) - SEARCH_HITS:,} more: type more of the name.")
    elif not hits:
        st.caption("No component has that in its name.")


def version_picker(data: ComponentPage) -> None:
    """The version shown; the current version keeps the URL short (no ``&version=``)."""
    if not data.versions:
        st.caption("No versions yet.")
        return
    key = f"version_of_{data.component['component_id']}"
    st.session_state[key] = str(data.version.get("version", data.versions[-1]))

    def switch() -> None:
        chosen = st.session_state.get(key)
        if chosen and chosen != data.current_version:
            st.query_params["version"] = chosen
        elif "version" in st.query_params:
            del st.query_params["version"]

    st.selectbox(
        "Version",
        data.versions,
        key=key,
        on_change=switch,
        format_func=lambda v: f"{v} (current)" if v == data.current_version else v,
    )


def scores(values: dict[str, Any]) -> None:
    """Rating, completeness, QA and sign-off tiles, and what keeps the first two from 100."""
    rating, qa = values.get("rating"), values.get("qa_score")
    missing, unsigned = list(values.get("missing", [])), list(values.get("unsigned", []))
    tiles = st.columns(4)
    tiles[0].metric(
        "Rating",
        "–" if rating is None or pd.isna(rating) else int(rating),
        help=BAND_LABELS.get(band(rating) or "", "Nothing to rate"),
        border=True,
    )
    tiles[1].metric("Completeness", values.get("completeness", "–"), border=True)
    tiles[2].metric("QA", "n/a" if qa is None or pd.isna(qa) else int(qa), border=True)
    tiles[3].metric(
        "Signed requirements",
        f"{values.get('signed', 0)} of {values.get('applicable_requirements', 0)}",
        border=True,
    )
    gaps = st.columns(2)
    with gaps[0].expander(f"Missing for completeness ({len(missing)})"):
        bullet_list(missing, empty="Nothing is missing.")
    with gaps[1].expander(f"Not signed, so not counted in the rating ({len(unsigned)})"):
        bullet_list(unsigned, empty="Every requirement is signed.")


def profile(data: ComponentPage) -> None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Owners")
        for role, persons in data.owners:
            label, names = st.columns([2, 5], vertical_alignment="center")
            label.markdown(f"**{md_text(role)}**")
            with names:
                people(persons)
        if not data.owners:
            st.caption("No owners yet.")
        st.subheader("QA")
        if data.qa_applicable:
            table(
                data.qa,
                {
                    "test": cc().TextColumn("Tests"),
                    "level": cc().TextColumn("Level"),
                    "notes": cc().TextColumn("Notes", width="large"),
                    "signed_off_by": cc().TextColumn("Signed off by"),
                    "signed_off_at": cc().DateColumn("On"),
                },
            )
        else:
            st.caption("QA does not apply to this component.")
    with right:
        st.subheader("Tech stack")
        if data.stack:
            st.markdown(
                "  \n".join(
                    f"**{label}**: {', '.join(md_text(n) for n in names)}" for label, names in data.stack
                )
            )
        else:
            st.caption("No tech stack yet.")
        st.subheader("Links")
        if data.links:
            links(data.links)
        else:
            st.caption("No links yet.")
        if data.documents:
            st.subheader("Documents")
            links(data.documents)


def set_card(card: SetCard, *, version_id: int | None = None, index: int = 0) -> None:
    """A set's requirements on the component page; with ``version_id`` (the visitor may edit the
    component), the controls to exclude the set from the version with a reason, or to include it again."""
    with st.container(border=True):
        head = st.columns([4, 1, 1], vertical_alignment="center")
        head[0].markdown(f"**{md_page_link(card.name, set_href(card.name))}**")
        with head[1]:
            status_badge(card.status)
        if version_id is not None:
            with head[2]:
                _exclusion_controls(card, version_id, index)
        if card.excluded_reason is not None:
            st.caption(f"Not applicable: {md_text(card.excluded_reason)}")
            return
        table(
            card.rows,
            {
                "requirement": cc().TextColumn("Requirement", pinned=True),
                "owner": cc().TextColumn("Owner claim"),
                "owner_by": cc().TextColumn("by"),
                "signee": cc().TextColumn("Signee verdict"),
                "signee_by": cc().TextColumn("by"),
                "overall": cc().TextColumn("Overall"),
                "notes": cc().TextColumn("Notes", width="large"),
                "evidence": cc().LinkColumn("Evidence", display_text=":material/open_in_new:"),
            },
            marks=("owner", "signee", "overall"),
        )


def _exclusion_controls(card: SetCard, version_id: int, index: int) -> None:
    if card.excluded_reason is not None:
        if st.button(
            "Applies again", key=f"include_set_{index}", icon=":material/undo:", help="Make the set apply"
        ):
            outcome = component.include_set(version_id, card.name)
            _after_write(outcome, f"{card.name} applies to this version again.")
        return
    with (
        st.popover("Not applicable", icon=":material/block:", help="Exclude this set from this version"),
        st.form(f"exclude_set_{index}", border=False),
    ):
        reason = st.text_area("Why does this set not apply?", key=f"exclude_reason_{index}", max_chars=2000)
        if st.form_submit_button("Exclude the set", type="primary"):
            outcome = component.exclude_set(version_id, card.name, reason)
            _after_write(outcome, f"{card.name} no longer applies to this version.")


def _after_write(outcome: Any, success: str) -> None:
    if outcome.ok:
        st.toast(success, icon=":material/check_circle:")
        st.rerun()
    st.error(outcome.message, icon=":material/error:")


def dependencies(data: ComponentPage) -> None:
    config = {
        "component": cc().LinkColumn("Component", display_text=r"name=([^&]*)"),
        "type": cc().TextColumn("Type"),
        "notes": cc().TextColumn("Notes", width="large"),
    }
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Depends on")
        if len(data.dependencies):
            table(data.dependencies, config)
        else:
            st.caption("No dependencies.")
    with right:
        st.subheader("Used by")
        if len(data.dependents):
            table(data.dependents, config)
        else:
            st.caption("No dependents.")


def deployments(data: ComponentPage) -> None:
    if data.deployments.empty:
        st.caption("Not deployed in any product yet.")
        return
    table(
        data.deployments,
        {
            "product": cc().TextColumn("Product", pinned=True),
            "family": cc().TextColumn("Family"),
            "location": cc().TextColumn("Location"),
            "environment": cc().TextColumn("Environment"),
            "runtime": cc().TextColumn("Runtime"),
            "service": cc().TextColumn("Service name"),
            "binary": cc().TextColumn("Binary"),
            "ports": cc().TextColumn("TCP ports"),
            "new": cc().CheckboxColumn("New in product"),
            "notes": cc().TextColumn("Notes", width="large"),
        },
    )


def history(data: ComponentPage) -> None:
    if data.history.empty:
        st.caption("No changes recorded.")
        return
    table(
        data.history,
        {
            "at": cc().DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
            "actor": cc().TextColumn("Who"),
            "entity": cc().TextColumn("What"),
            "action": cc().TextColumn("Action"),
            "field": cc().TextColumn("Field"),
            "old": cc().TextColumn("Old value"),
            "new": cc().TextColumn("New value"),
            "source": cc().TextColumn("Through"),
        },
    )


def cc() -> Any:
    return st.column_config

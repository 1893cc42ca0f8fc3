"""The "Waiting for me" page through app.py: a signee's claims awaiting their verdict, an owner's
missing / not ready / declined requirements, both oldest first and as the data layer computes them,
rows linked to the right set page and grid; filters from the URL; empty states; login only."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from panopticum_data.db import make_engine, read_connection
from panopticum_data.queries import signoff
from panopticum_data.queries.requirements import requirement_statuses
from panopticum_ui import my_work
from tests.ui.conftest import assert_refused, log_in, open_app, texts

PAGE = "views/my_work.py"
SIGNED = {"Security & Compliance", "Architecture requirements"}  # the demo expert's groups sign these


def page(url: str, monkeypatch: pytest.MonkeyPatch, user: str, **query: str) -> AppTest:
    at = log_in(open_app(url, monkeypatch, query=dict(query)), user)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def read(url: str, function: Any, *args: Any) -> Any:
    engine = make_engine(url)
    try:
        with read_connection(engine) as conn:
            return function(conn, *args)
    finally:
        engine.dispose()


def table(at: AppTest, kind: str) -> pd.DataFrame:
    """The queue table of a tab: the sign table has ``claimed_by``, the claim table ``verdict``."""
    column = "claimed_by" if kind == "sign" else "verdict"
    found = [df.value for df in at.dataframe if column in df.value.columns]
    assert len(found) == 1
    return found[0]


def query_of(href: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(href)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def rows_of(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    return [
        (query_of(c)[1]["name"], s, r)
        for c, s, r in zip(frame["component"], frame["set"], frame["requirement"], strict=True)
    ]


def same_ages(shown: pd.Series, expected: pd.Series) -> bool:
    """Whole days as shown against the data layer's ages (a day may turn between the two reads)."""
    pairs = zip(shown.tolist(), expected.tolist(), strict=True)
    return all(
        (pd.isna(a) and math.isnan(b)) or (not pd.isna(a) and abs(int(a) - math.floor(b)) <= 1)
        for a, b in pairs
    )


def tab_labels(at: AppTest) -> list[str]:
    return [t.label for t in at.tabs]


def test_expert_sees_the_claims_awaiting_their_verdict_oldest_first(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "expert")
    expected = read(demo_url, signoff.waiting_for_signee, "expert")
    assert len(expected) > 0 and set(expected.attrs["signed_sets"]) == SIGNED
    assert tab_labels(at)[0] == f"To sign ({len(expected):,})"
    shown = table(at, "sign")
    assert (
        rows_of(shown)
        == list(zip(expected["component"], expected["set_name"], expected["requirement"], strict=True))[
            : my_work.TABLE_ROWS
        ]
    )
    assert same_ages(shown["age"], expected["age_days"])
    ages = shown["age"].dropna().astype(int)
    assert ages.is_monotonic_decreasing and ages.iloc[0] > ages.iloc[-1]  # oldest first
    assert set(shown["claim"]) <= {"✔ ready", "– n/a"}
    # nothing of the sets the expert does not sign, though claims wait there too
    assert set(shown["set"]) <= SIGNED
    everything = read(demo_url, requirement_statuses)
    waiting = everything[everything["overall"].isin(["waiting", "waiting_na"]) & ~everything["excluded"]]
    assert (~waiting["set_name"].isin(SIGNED)).any()
    # each row opens the set's sign grid at its component, and the component's page
    for component, set_name, opened in zip(shown["component"], shown["set"], shown["open"], strict=True):
        path, params = query_of(opened)
        name = query_of(component)[1]["name"]
        assert path.endswith("requirement_set") and params == {"name": set_name, "q": name, "view": "sign"}
        assert query_of(component)[0].endswith("component")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Awaiting your verdict"] == f"{len(expected):,}"
    assert metrics["Oldest claim"] == f"{int(expected['age_days'].max())} d"
    assert len(at.get("plotly_chart")) == 2  # one chart per queue (the expert also owns components)


def test_owner_sees_what_is_missing_or_declined_on_their_components(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = page(demo_url, monkeypatch, "owner")
    expected = read(demo_url, signoff.missing_for_owner, "owner")
    assert len(expected) > 0 and "Payment Service" in expected.attrs["owned_components"]
    assert tab_labels(at) == ["To sign (0)", f"My components ({len(expected):,})"]
    assert "You are not in a signer group" in texts(at)
    shown = table(at, "claim")
    assert (
        rows_of(shown)
        == list(zip(expected["component"], expected["set_name"], expected["requirement"], strict=True))[
            : my_work.TABLE_ROWS
        ]
    )
    assert shown["reason"].tolist() == expected["reason"].tolist()[: my_work.TABLE_ROWS]
    assert same_ages(shown["age"], expected["age_days"])
    assert set(shown["reason"]) >= {"missing"}
    for component, set_name, opened in zip(shown["component"], shown["set"], shown["open"], strict=True):
        path, params = query_of(opened)
        assert path.endswith("requirement_set")
        assert params == {"name": set_name, "q": query_of(component)[1]["name"], "view": "claim"}
    metrics = {m.label: m.value for m in at.metric}
    counts = expected["reason"].value_counts()
    assert metrics["Missing claims"] == f"{int(counts.get('missing', 0)):,}"
    assert metrics["Declined"] == f"{int(counts.get('declined', 0)):,}"


def test_a_declined_claim_shows_the_verdict_and_the_signees_notes(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The expert's own components: a signee's decline lands in the owner's queue with its notes."""
    expected = read(demo_url, signoff.missing_for_owner, "expert")
    declined = expected[expected["reason"] == "declined"]
    if declined.empty:
        pytest.skip("the demo has no declined claim on the expert's components")
    at = page(demo_url, monkeypatch, "expert")
    shown = table(at, "claim")
    rows = shown[shown["reason"] == "declined"]
    assert len(rows) == len(declined)
    assert set(rows["verdict"]) == {"✘ not ready"}
    notes = [n if isinstance(n, str) else "" for n in declined["signee_notes"]]
    assert rows["notes"].tolist() == notes


def test_filters_by_set_and_age_come_from_the_url(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, "expert", set="Security & Compliance", older="30")
    expected = my_work.narrow(
        read(demo_url, signoff.waiting_for_signee, "expert"), ["Security & Compliance"], 30
    )
    assert len(expected) > 0
    shown = table(at, "sign")
    assert set(shown["set"]) == {"Security & Compliance"}
    assert (shown["age"].astype(int) >= 30).all()
    assert tab_labels(at)[0] == f"To sign ({len(expected):,})"
    assert rows_of(shown) == list(
        zip(expected["component"], expected["set_name"], expected["requirement"], strict=True)
    )


def test_filters_that_leave_nothing_say_so(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, "expert", older="100000")
    assert tab_labels(at) == ["To sign (0)", "My components (0)"]
    assert not at.dataframe
    assert "Nothing here matches the filters." in [s.value for s in at.success]


def test_viewer_sees_the_empty_states(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(demo_url, monkeypatch, "viewer")
    assert at.title[0].value == "Waiting for me"
    assert tab_labels(at) == ["To sign (0)", "My components (0)"]
    body = texts(at)
    assert "You are not in a signer group" in body and "You own no components" in body
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("anonymous_read", [False, True])
def test_anonymous_visitors_are_not_offered_the_page(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, anonymous_read: bool
) -> None:
    at = open_app(demo_url, monkeypatch, anonymous_read=anonymous_read)
    if anonymous_read:
        assert_refused(at, PAGE, "logged-in people")
    else:  # the login gate comes first
        at.switch_page(PAGE).run()
        assert "Log in with the form in the sidebar" in texts(at) and not at.dataframe


def test_queue_chart_counts_by_set_and_age_bucket() -> None:
    queue = pd.DataFrame(
        {
            "set_name": ["A", "A", "A", "B", "B"],
            "age_days": [40.0, 10.0, 3.0, 3.5, float("nan")],
        }
    )
    counts = my_work.by_set_and_age(queue, ["B", "A"])
    assert list(zip(counts["set"], counts["bucket"], counts["items"], strict=True)) == [
        ("B", "< 7 d", 1),
        ("B", "no date", 1),
        ("A", "> 30 d", 1),
        ("A", "7–30 d", 1),
        ("A", "< 7 d", 1),
    ]
    fig = my_work.queue_chart(counts)
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {b: my_work.BUCKET_COLOURS[b] for b in ("> 30 d", "7–30 d", "< 7 d", "no date")}
    assert set(my_work.BUCKET_COLOURS.values()) <= set(my_work.OKABE_ITO.values())

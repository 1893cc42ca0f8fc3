"""Sign-off in a real browser (Chromium through Playwright, `streamlit run` on a loopback port): the
expert opens a pasted link to a set's sign grid, types a note and evidence link into the grid, saves,
and the verdict row holds them; the heat-map is drawn with its links. Screenshots go to
tests/artifacts/ (ignored by git)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from panopticum_data import models as m
from panopticum_data.db import make_engine
from tests.ui.test_browser import ARGS, ARTIFACTS, WAIT_MS, chromium, demo_url, server, settle

__all__ = ["chromium", "demo_url", "server"]  # fixtures shared with the main journey

SET = "Security & Compliance"
COMPONENT = "Payment Service"
NOTE = "Checked in the browser"


def _signee_notes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(m.RequirementStatus.signee_notes)
                .join(m.Component, m.Component.current_version_id == m.RequirementStatus.version_id)
                .where(m.Component.name == COMPONENT)
            ).scalars()
            return {str(n) for n in rows if n}
    finally:
        engine.dispose()


def test_expert_signs_in_the_grid_from_a_pasted_link(chromium: Path, server: str, demo_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert NOTE not in _signee_notes(demo_url)
    link = f"{server}/requirement_set?name={quote(SET)}&view=sign&q={quote(COMPONENT)}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(link)
            page.locator("input[aria-label=Username]").fill("expert")
            page.locator("input[type=password]").fill("expert")
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name=SET)).to_be_visible(timeout=WAIT_MS)
            settle(page)
            toggle = page.get_by_text("Only claims awaiting a verdict")
            expect(toggle).to_be_visible(timeout=WAIT_MS)
            toggle.click()  # every row of the component
            settle(page)
            grid = page.get_by_test_id("stDataFrame").first
            expect(grid).to_be_visible(timeout=WAIT_MS)
            box = grid.bounding_box()
            assert box is not None
            # a cell of the first rows, then up to the first row and right to "Signee notes"
            page.mouse.click(box["x"] + 40, box["y"] + box["height"] / 3)
            for key in ["ArrowUp"] * 6 + ["ArrowRight"] * 7:
                page.keyboard.press(key)
            page.keyboard.press("Enter")  # opens the cell's editor
            editor = page.get_by_test_id("portal").locator("textarea, input").first
            expect(editor).to_be_visible(timeout=WAIT_MS)
            editor.fill(NOTE)
            page.keyboard.press("Enter")
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / "sign-grid-edited.png"))
            page.get_by_role("button", name="Save").click()
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "sign-grid-saved.png"))
            assert NOTE in _signee_notes(demo_url), "the note typed in the grid was saved"

            # the heat-map of the set, drawn by plotly, with links on the component names
            page.goto(f"{server}/requirement_set?name={quote(SET)}")
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=WAIT_MS)
            settle(page)
            expect(page.locator(".js-plotly-plot a", has_text=COMPONENT).first).to_be_attached()
            page.screenshot(path=str(ARTIFACTS / "set-heatmap.png"))
        finally:
            browser.close()

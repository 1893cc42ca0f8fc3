"""The main journey in a real browser: `streamlit run` on a free loopback port with the demo registry,
Debian's Chromium driven by Playwright. Logs in as the demo owner, filters the dashboard, opens a
component from the table and saves a screenshot in tests/artifacts/ (ignored by git)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from panopticum_data import queries, security
from panopticum_data.db import make_engine, read_connection, session_scope
from panopticum_data.demo import load_demo
from panopticum_data.services import SYSTEM
from panopticum_data.services.components import update_component
from tests import dbutil

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WAIT_MS = 20_000
SEARCH = "payment"
XSS_COMPONENT = "Payment Service"
XSS = "<img src=x onerror=alert(1)>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("browser") / "demo.db"
    url = f"sqlite:///{path}"
    dbutil.migrate(url)
    engine = make_engine(url)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(security, "BCRYPT_ROUNDS", 4)
            with session_scope(engine) as session:
                load_demo(session)
        with session_scope(engine) as session, read_connection(engine) as conn:
            frame = queries.components_overview(conn)
            row = frame[frame["name"] == XSS_COMPONENT].iloc[0]
            update_component(
                session,
                actor=SYSTEM,
                component_id=int(row["component_id"]),
                expected_row_version=None,
                changes={"description": f"Takes payments. {XSS} <script>alert(2)</script>"},
            )
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def server(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {
        **os.environ,
        "PANOPTICUM_DATABASE_URL": demo_url,
        "PANOPTICUM_COOKIE_KEY": "browser-test-cookie-key-0123456789abcdef",
        "PANOPTICUM_SECRETS_FILE": str(log.parent / "no-secrets.toml"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PANOPTICUM_ANONYMOUS_READ", None)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within 30 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `apt-get install chromium` (Debian's package; .ci/run installs it)"
        )
    return CHROMIUM


IDLE = """() => !document.querySelector(
    '[data-stale="true"], [data-testid^="stStatusWidgetRunning"]')"""


def settle(page: Any) -> None:
    """Wait until the app has finished its reruns (the re-login cookie may cause one more)."""
    for _ in range(2):
        page.wait_for_function(IDLE, timeout=WAIT_MS)
        page.wait_for_timeout(300)


def _expected_first_row(demo_url: str) -> str:
    engine = make_engine(demo_url)
    try:
        with read_connection(engine) as conn:
            frame = queries.apply_filters(
                conn, queries.components_overview(conn), queries.OverviewFilters(text=SEARCH)
            )
    finally:
        engine.dispose()
    return str(frame["name"].iloc[0])


def test_owner_filters_the_dashboard_and_opens_a_component(
    chromium: Path, server: str, demo_url: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    first = _expected_first_row(demo_url)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1400})
            context.on("page", lambda pg: pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(server + "/")
            expect(page.get_by_text("Log in with the form in the sidebar")).to_be_visible(timeout=WAIT_MS)
            page.locator("input[aria-label=Username]").fill("owner")
            page.locator("input[type=password]").fill("owner")
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Components")).to_be_visible(timeout=WAIT_MS)
            settle(page)
            expect(page.get_by_text("Signed in as")).to_be_visible()
            expect(page.get_by_test_id("stDataFrame")).to_be_visible()

            search = page.get_by_placeholder("Name, description or tag")
            search.fill(SEARCH)
            search.press("Enter")
            expect(page).to_have_url(f"{server}/?q={SEARCH}", timeout=WAIT_MS)
            total = page.get_by_test_id("stMetricValue").first
            expect(total).not_to_have_text("50", timeout=WAIT_MS)
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "dashboard-filtered.png"))

            grid = page.get_by_test_id("stDataFrame").first
            expect(grid).to_be_visible()
            box = grid.bounding_box()
            assert box is not None
            cell = (box["x"] + 40, box["y"] + 35 + 17)  # row 1, column "Component" (rows are 35 px)
            page.mouse.move(*cell)  # the grid resolves the link under the pointer on hover
            page.wait_for_timeout(300)
            with context.expect_page(timeout=WAIT_MS) as opened:  # a link cell opens a new tab
                page.mouse.click(*cell)
            component = opened.value
            expect(component).to_have_url(f"{server}/component?name={quote(first)}", timeout=WAIT_MS)
            # the new tab logs in again from the cookie, and opens the linked page
            expect(component.get_by_role("heading", name=first)).to_be_visible(timeout=WAIT_MS)
            expect(component.get_by_role("tab", name="Profile")).to_be_visible()
            settle(component)
            component.screenshot(path=str(ARTIFACTS / "component-page.png"), full_page=True)

            # user text with HTML shows as text, and nothing runs
            component.goto(f"{server}/component?name={quote(XSS_COMPONENT)}")
            expect(component.get_by_role("heading", name=XSS_COMPONENT)).to_be_visible(timeout=WAIT_MS)
            settle(component)
            expect(component.get_by_text(XSS, exact=False)).to_be_visible()
            assert component.locator("img[src='x']").count() == 0
            assert component.locator("script:has-text('alert(2)')").count() == 0
            component.screenshot(path=str(ARTIFACTS / "component-html-as-text.png"))
            assert dialogs == []
        finally:
            browser.close()

"""Sessions and Tasks in a real browser (Debian's headless Chromium through Playwright, the
system browser by `executable_path`): session list -> filter -> transcript (a tool call opens
to show its result, thinking stays folded until clicked, an image loads, SVG does not show)
-> task -> the message it came from; search -> hit -> the message in its transcript.

The same fixtures' names as tests/e2e/test_ui_browser.py (browser, ui, seeded, login), so
these tests can move there as its "Sessions and Tasks" section. Screenshots go to a tmp folder
(ACONTEXT_UI_SCREENSHOTS=DIR keeps them). Every step fails if a script ran.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn
from tests.support.ui_client import UiServer, serve_ui
from tests.support.ui_seed import PNG, Seeded, seed

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=7"></svg>'


class Browser:
    def __init__(self, chromium: Any, profile: Path, shots: Path) -> None:
        self.context = chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.shots = shots
        self.problems: list[str] = []
        self.page.on("dialog", lambda d: (self.problems.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda exc: self.problems.append(str(exc)))

    def go(self, url: str) -> None:
        self.page.goto(url)
        self.assert_clean()

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()
        self.assert_clean()

    def assert_clean(self) -> None:
        assert self.page.evaluate("() => window.__xss") is None, self.page.url
        assert not self.problems, self.problems

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.skip("no chromium: `apt-get install chromium` (.ci/run does it)")
    with playwright_api.sync_playwright() as p:
        yield p.chromium


@pytest.fixture
def browser(chromium: Any, tmp_path: Path) -> Iterator[Browser]:
    keep = os.environ.get("ACONTEXT_UI_SCREENSHOTS")
    shots = Path(keep) if keep else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    b = Browser(chromium, tmp_path / "profile", shots)
    try:
        yield b
    finally:
        b.context.close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def seeded(settings: Settings) -> Seeded:
    out = seed(settings)
    conn = open_db(settings)
    try:  # a picture and an SVG in the main session
        image = {"type": "base64", "media_type": "image/png", "data": _b64(PNG)}
        svg = {"type": "base64", "media_type": "image/svg+xml", "data": _b64(SVG.encode())}
        store_turn(
            conn,
            settings,
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Here is the screenshot."},
                        {"type": "image", "source": image},
                        {"type": "image", "source": svg},
                    ],
                }
            ],
            fmt="anthropic",
            session_id=out.session,
        )
    finally:
        conn.close()
    return out


@pytest.fixture
def ui(settings: Settings, seeded: Seeded) -> Iterator[UiServer]:
    with serve_ui(settings) as server:
        yield server


def login(browser: Browser, ui: UiServer) -> None:
    browser.go(ui.login_url)


def test_session_list_filter_transcript_task_and_back(
    browser: Browser, ui: UiServer, seeded: Seeded
) -> None:
    login(browser, ui)
    browser.click('nav a[href="/sessions"]')
    browser.page.fill('input[name="agent"]', "claude-code")
    browser.click('form.filters button[type="submit"]')
    assert "agent=claude-code" in browser.page.url
    assert seeded.older not in browser.page.inner_text("main")
    browser.shot("sessions-list")
    browser.click(f'main a[href="/sessions/{seeded.session}"]')
    page = browser.page
    call = page.locator("details#call-toolu_01")
    assert not call.evaluate("d => d.open")
    assert not page.get_by_text("1 failed: test_login_redirect").is_visible()
    call.locator("summary").click()
    assert page.get_by_text("1 failed: test_login_redirect").is_visible()  # paired result
    thinking = page.locator("details.thinking").first
    assert not page.get_by_text("The test probably needs the fixture.").is_visible()
    thinking.locator("summary").click()
    assert page.get_by_text("The test probably needs the fixture.").is_visible()
    assert page.locator("mark.redacted").first.is_visible()
    img = page.locator("figure.media img").first
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=img.element_handle())
    assert img.evaluate("i => i.naturalWidth") == 1  # the 1x1 PNG, served with its type
    assert page.locator('img[src*="/media/"]').count() == 1  # the SVG is no <img>
    assert page.get_by_text("image/svg+xml, downloads").is_visible()
    browser.assert_clean()
    browser.shot("session-transcript")
    browser.click(f'a[href="/sessions/{seeded.subagent}"]')  # the subagent, and back up
    browser.click('a[rel="up"]')
    browser.click(f'.session-tasks a[href="/tasks/{seeded.task_ids[0]}"]')
    assert "verified success" in page.inner_text("main")
    browser.shot("task")
    browser.click(".task-messages a")  # the message the task came from
    assert page.url.endswith(f"#m{seeded.message_ids[0]}")
    assert page.locator(f"#m{seeded.message_ids[0]}").is_visible()


def test_search_hit_opens_the_message_in_its_transcript(
    browser: Browser, ui: UiServer, seeded: Seeded
) -> None:
    login(browser, ui)
    browser.go(f"{ui.base}/sessions")
    browser.page.fill('input[name="q"]', "test_login_redirect")
    browser.click('form.filters button[type="submit"]')
    browser.shot("sessions-search")
    browser.click("li.hit a")
    target = browser.page.url.rsplit("#", 1)[1]
    assert target == f"m{seeded.message_ids[2]}"  # the tool result's message (folded)
    assert browser.page.locator(f"#{target}").is_visible()

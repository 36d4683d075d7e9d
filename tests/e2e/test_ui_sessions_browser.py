"""Sessions and Tasks in a real browser (Debian's headless Chromium through Playwright, the
system browser by `executable_path`): session list -> filter -> transcript (a tool call opens
to show its result, thinking stays folded until clicked, an image loads, SVG does not show)
-> task -> the message it came from; search -> hit -> the message in its transcript.

The browser and its fixtures are shared (tests/support/ui_browser.py, tests/e2e/conftest.py).
Screenshots go to a tmp folder (ACONTEXT_UI_SCREENSHOTS=DIR keeps them). Every step fails if a
script ran.
"""

from __future__ import annotations

import base64

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn
from tests.support.ui_browser import Browser
from tests.support.ui_client import UiServer
from tests.support.ui_seed import PNG, Seeded, seed

pytestmark = pytest.mark.e2e

SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=7"></svg>'


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


def login(browser: Browser, ui: UiServer) -> None:
    browser.login(ui.login_url)


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

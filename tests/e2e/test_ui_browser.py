"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright for Python
(the system browser through `executable_path`: nothing is downloaded). `.ci/run` installs
`chromium` with apt when it is missing; without it these tests skip, saying so.

Organised per page: each section seeds what it needs (tests/support/ui_seed.py), drives the
pages by clicking, checks what they show, and saves screenshots under a tmp folder (set
ACONTEXT_UI_SCREENSHOTS=DIR to keep them; `-k readme` with DIR=docs/img refreshes the
README's). Every test fails when a script ran (`window.__xss` set, a dialog opened, a CSP
violation or a page error reported).

Links the flow follows (the page modules' contract): a session page links its tasks
(`a[href^="/tasks/"]`); a task page links the skill its learning changed (`a[href^="/skills/"]`);
a skill page links its commits (an `a` whose href holds the commit's sha, first 12 characters);
a commit page shows the diff; the proposals queue has a POST form whose action holds the
proposal id and "accept". The browser, its fixtures and what counts as a script that ran are
in tests/support/ui_browser.py and tests/e2e/conftest.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from acontext_mcp.config import Settings
from tests.support.ui_browser import Browser
from tests.support.ui_client import UiServer, serve_ui
from tests.support.ui_seed import Seeded, seed, seed_history

pytestmark = pytest.mark.e2e


def login(browser: Browser, ui: UiServer) -> None:
    browser.login(ui.login_url)


# --- Login ---


def test_the_token_becomes_a_cookie_scripts_cannot_read(browser: Browser, ui: UiServer) -> None:
    browser.go(ui.base + "/")
    assert "open the URL" in browser.page.inner_text("body")  # no cookie yet: refused
    login(browser, ui)
    assert browser.page.url == ui.base + "/"
    assert ui.token not in browser.page.evaluate("() => document.cookie")  # HttpOnly
    cookie = next(c for c in browser.context.cookies() if c["name"] == f"acontext_ui_{ui.port}")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


# --- Overview ---


def test_overview_shows_charts_and_switches_period(
    browser: Browser, ui: UiServer, seeded: Seeded
) -> None:
    login(browser, ui)
    text = browser.text()
    assert "Task success rate per day" in text
    assert "Verified: 1 of 2 (50%)" in text and "Unverified: 1 of 1 marked done" in text
    assert browser.page.locator("main svg").count() == 6
    assert browser.page.locator("#chart-tokens svg line.budget").count() == 1
    browser.shot("overview")
    browser.click('a[href="/?days=90"]')
    assert browser.page.url.endswith("/?days=90")
    assert "Task success rate per week" in browser.text()


# --- Overview -> session -> task -> skill -> commit diff; the proposals queue ---


def test_click_through_overview_session_task_skill_commit(
    browser: Browser, ui: UiServer, seeded: Seeded
) -> None:
    login(browser, ui)
    browser.click(f'#recent a[href="/sessions/{seeded.session}"]')
    assert "Fix the failing login test" in browser.text()
    browser.shot("session")
    browser.click('main a[href^="/tasks/"]')
    assert "verified_success" in browser.text() or "verified success" in browser.text()
    browser.shot("task")
    browser.click('main a[href^="/skills/"]')
    assert seeded.skill in browser.text()
    browser.shot("skill")
    browser.click(f'main a[href*="{seeded.learned_commit[:12]}"]')
    assert "Run the migrations before" in browser.text()
    browser.shot("commit")


def test_accept_a_proposal(browser: Browser, ui: UiServer, seeded: Seeded) -> None:
    login(browser, ui)
    browser.click('nav a[href="/skills"]')
    form = f'form[action*="{seeded.proposal}"][action*="accept"]'
    if browser.page.locator(form).count() == 0:
        browser.click('main a[href*="proposal"]')
    browser.click(f"{form} button")
    assert "accepted" in browser.text().lower()
    browser.shot("proposal-accepted")


# --- Disks ---


def test_disks_browse_and_read(browser: Browser, ui: UiServer) -> None:
    login(browser, ui)
    browser.click('nav a[href="/disks"]')
    browser.click('main a[href="/disks/default/"]')
    browser.click('main a[href="/disks/default/notes/"]')
    browser.click('main a[href="/disks/default/notes/plan.md"]')
    assert browser.page.locator("article.markdown h1").inner_text() == "Plan"
    browser.shot("disk-file")
    browser.click('nav.crumbs a[href="/disks/default/"]')
    browser.click('main a[href="/disks/default/img/"]')
    browser.click('main a[href="/disks/default/img/pixel.png"]')
    assert "Binary file (66 B, image/png): not shown." in browser.text()
    assert browser.page.locator("main img").count() == 0


# --- Stored content never runs ---


def test_stored_payloads_never_run_on_any_page(
    browser: Browser, settings: Settings, chromium: Any
) -> None:
    """Script tags, event handlers and javascript: links stored in messages, a task, a skill
    and a file name: every page reachable by a link (GET only) is visited, and one of the
    javascript: links is clicked."""
    seeded = seed(settings, hostile=True)
    with serve_ui(settings) as ui:
        login(browser, ui)
        seen: set[str] = set()
        queue = ["/", "/sessions", "/tasks", "/skills", "/learning", "/disks"]
        queue += [f"/sessions/{seeded.session}", f"/tasks/{seeded.task_ids[0]}"]
        queue += ["/disks/default/notes/"]
        while queue and len(seen) < 80:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            browser.go(ui.base + path)
            hrefs = browser.page.eval_on_selector_all(
                "a[href]", "els => els.map(e => e.getAttribute('href'))"
            )
            assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], path
            for href in hrefs:
                target = urlparse(href)
                if not target.scheme and href.startswith("/") and "download=1" not in href:
                    queue.append(href)
        assert "/disks/default/notes/" in seen and len(seen) > 8
        browser.go(ui.base + "/disks/default/notes/")
        hostile = browser.page.locator("main a", has_text="onerror").first
        hostile.click()
        browser.page.wait_for_load_state()
        browser.assert_clean()
        assert "<script>window.__xss=1</script>" in browser.text()  # shown as text
        browser.shot("hostile-file")
        # the Markdown link with a javascript: target became text, not a link
        assert browser.page.locator('a[href^="javascript"]').count() == 0


# --- README screenshots (ACONTEXT_UI_SCREENSHOTS=docs/img to refresh them) ---


def test_readme_screenshots(browser: Browser, settings: Settings) -> None:
    seeded = seed(settings)
    seed_history(settings, days=30)
    with serve_ui(settings) as ui:
        login(browser, ui)
        assert browser.page.locator("main svg").count() == 6
        browser.shot("dashboard-overview")
        browser.go(f"{ui.base}/sessions/{seeded.session}")
        browser.shot("dashboard-session")

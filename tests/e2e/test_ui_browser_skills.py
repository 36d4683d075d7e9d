"""The Skills and Learning pages in a real browser: Debian's headless Chromium driven by
Playwright for Python (the system browser through `executable_path`; nothing is downloaded).
Without chromium these tests skip, saying how to install it (`.ci/run` does).

The browser and its fixtures are shared with tests/e2e/test_ui_browser.py
(tests/support/ui_browser.py, tests/e2e/conftest.py); each test seeds a data home
(tests/support/ui_seed.py), clicks through, checks what the page shows and what changed on
disk, and fails when a stored payload ran (`window.__xss`, a dialog, a page error).
Screenshots go under a tmp folder, or ACONTEXT_UI_SCREENSHOTS=DIR.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.skills import proposals
from tests.support.ui_browser import Browser
from tests.support.ui_client import UiServer, serve_ui
from tests.support.ui_seed import Seeded, seed

pytestmark = pytest.mark.e2e


def _head_subject(settings: Settings) -> str:
    return subprocess.run(
        ["git", "-C", str(settings.skills_dir), "log", "-1", "--format=%s"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_skill_to_its_commit_diff(browser: Browser, ui: UiServer, seeded: Seeded) -> None:
    browser.go(ui.login_url)
    browser.click('header nav a[href="/skills"]')
    browser.click(f'main summary a[href="/skills/s/{seeded.skill}"]')
    assert "Deploy demo-app" in browser.text()  # SKILL.md rendered
    assert browser.page.locator("article.markdown h1").inner_text() == "Deploy demo-app"
    browser.shot("skill")
    browser.click(f'main a[href="/skills/commits/{seeded.learned_commit}"]')
    assert "Learn: run migrations before release" in browser.text()
    added = browser.page.locator("pre.diff span.add").all_inner_texts()
    assert "+- Run the migrations before `make release` (verified: exit 0) [s1 t1]" in added
    assert browser.page.locator(f'main a[href="/sessions/{seeded.session}"]').count() == 1
    browser.shot("commit")


def test_accept_a_proposal_from_the_queue(
    browser: Browser, ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    browser.go(ui.login_url)
    browser.click('header nav a[href="/skills"]')
    browser.click('main nav.subnav a[href="/skills/proposals"]')
    browser.click(f'main a[href="/skills/proposals/{seeded.proposal}"]')
    assert "exit 2" in browser.text()  # the task's evidence
    browser.shot("proposal")
    browser.click(f'form[action="/skills/proposals/{seeded.proposal}/accept"] button')
    assert "Accepted as commit" in browser.text()
    assert _head_subject(settings) == "Learn: tag before building"
    assert proposals.get(settings.skills_dir, seeded.proposal).state == "accepted"
    browser.shot("proposal-accepted")


def test_reject_a_proposal_with_a_reason(
    browser: Browser, ui: UiServer, settings: Settings, seeded: Seeded
) -> None:
    before = _head_subject(settings)
    browser.go(f"{ui.login_url}")
    browser.go(f"{ui.base}/skills/proposals/{seeded.proposal}")
    browser.page.fill('form.reject input[name="reason"]', "too vague <b>x</b>")
    browser.click("form.reject button")
    assert "Rejected." in browser.text() and "too vague <b>x</b>" in browser.text()
    assert _head_subject(settings) == before
    assert proposals.get(settings.skills_dir, seeded.proposal).reason == "too vague <b>x</b>"


def test_retry_a_failed_learning(browser: Browser, ui: UiServer, seeded: Seeded) -> None:
    browser.go(ui.login_url)
    browser.click('header nav a[href="/learning"]')
    assert "the model timed out after 300 s" in browser.text()
    browser.shot("learning")
    browser.click(f'form[action="/learning/sessions/{seeded.session}/retry"] button')
    assert "Queued 1 task to learn again" in browser.text()
    browser.click('main nav.subnav a[href="/learning/usage"]')
    assert "skill_learning" in browser.text()


def test_hostile_skills_never_run(browser: Browser, settings: Settings) -> None:
    seeded = seed(settings, hostile=True)
    name = '<img src=x onerror="window.__xss=6">.md'
    (Path(settings.skills_dir) / seeded.skill / name).write_text(
        "[x](javascript:window.__xss=7) <script>window.__xss=8</script>\n"
    )
    with serve_ui(settings) as ui:
        browser.go(ui.login_url)
        browser.go(f"{ui.base}/skills")
        browser.page.locator(f'summary a[href="/skills/s/{seeded.skill}"]').first.click()
        browser.assert_clean()
        browser.click('main a:has-text("onerror")')
        assert "<script>window.__xss=8</script>" in browser.text()  # shown as text
        for path in ("/skills/proposals", f"/skills/proposals/{seeded.proposal}", "/learning"):
            browser.go(ui.base + path)
        browser.go(f"{ui.base}/skills/commits/{seeded.learned_commit}")
        assert browser.page.locator('a[href^="javascript"]').count() == 0

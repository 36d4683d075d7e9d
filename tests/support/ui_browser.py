"""The dashboard in a real browser, for tests/e2e/test_ui_*.py: Debian's headless Chromium
driven by Playwright for Python (the system browser through `executable_path`: nothing is
downloaded). The fixtures (`chromium`, `shots`, `browser`) are in tests/e2e/conftest.py.

A `Browser` is one fresh profile and its page, and notices everything that would betray a
stored payload that ran: `window.__xss` set, a dialog opened, a page error, a script the
Content-Security-Policy blocked. Every step a test takes checks them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = (
    "no chromium: `apt-get install chromium chromium-driver` (.ci/run does it) to run the "
    "dashboard's browser tests"
)


class Browser:
    """One fresh browser profile, a page, and everything that would betray a running script."""

    def __init__(self, chromium: Any, profile: Path, shots: Path) -> None:
        self.context = chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.shots = shots
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.console.append(msg.text))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, url: str) -> Any:
        answer = self.page.goto(url)
        self.assert_clean()
        return answer

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()
        self.assert_clean()

    def text(self) -> str:
        return str(self.page.inner_text("main"))

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        flag = self.page.evaluate("() => window.__xss")
        assert flag is None, f"a stored payload ran on {self.page.url}: window.__xss = {flag}"
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
        assert not self.errors, f"page errors: {self.errors}"
        blocked = [c for c in self.console if "Content Security Policy" in c]
        assert not blocked, f"the CSP blocked something (a script tried to run?): {blocked}"

    def login(self, login_url: str) -> None:
        """Open the dashboard's first URL: the token becomes a cookie and leaves the address
        bar."""
        self.go(login_url)
        assert urlparse(self.page.url).query == "", "the token must leave the address bar"

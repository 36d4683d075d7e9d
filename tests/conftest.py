"""Shared fixtures: every test gets its own data home; stores are real SQLite files."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.config import LLM_CREDENTIAL_VARS, Settings
from acontext_mcp.store.db import open_db

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# ACONTEXT_* variables that steer the test run itself, not the product: kept.
TEST_SWITCHES = frozenset({"ACONTEXT_SKIP_E2E", "ACONTEXT_UI_SCREENSHOTS"})


def _machine_setting(name: str) -> bool:
    """A variable of the machine that would change what the code under test reads."""
    if name in TEST_SWITCHES:
        return False
    return name == "CLAUDE_CONFIG_DIR" or name.startswith(("ACONTEXT_", "OPENCLAW_"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs as a fresh user: HOME and ACONTEXT_HOME point into tmp_path, and no
    ACONTEXT_*, CLAUDE_CONFIG_DIR or OPENCLAW_* setting of the machine leaks in, so no test can
    touch the user's real data or their Claude Code and OpenClaw config."""
    for name in [n for n in os.environ if _machine_setting(n)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("ACONTEXT_HOME", str(tmp_path / "home"))
    # Hooks must not start background workers unless a test asks for one (ACONTEXT_WORKER=on),
    # and no test may reach a real LLM through keys or URLs that happen to be set on the machine.
    monkeypatch.setenv("ACONTEXT_WORKER", "off")
    for name in LLM_CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "home", skills_dir=tmp_path / "skills")
    s.ensure_dirs()
    return s


@pytest.fixture
def accept_all(settings: Settings) -> None:
    """`learning.accept auto` in the test's config.json: learned changes are committed without
    review, for the tests about the commit path (tests/test_learn_review.py covers the policy)."""
    from acontext_mcp.learn.review import save_policy

    save_policy(settings, "auto")


@pytest.fixture
def db(settings: Settings) -> Iterator[sqlite3.Connection]:
    conn = open_db(settings)
    yield conn
    conn.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def conn(db: sqlite3.Connection) -> sqlite3.Connection:
    """The same store connection under the name the disk tests use."""
    return db


# --- The dashboard (tests/support/ui_seed.py, ui_client.py); imported when a test asks ---


@pytest.fixture
def seeded(settings: Settings) -> Any:
    """A data home seeded for the dashboard's pages (tests/support/ui_seed.Seeded)."""
    from tests.support.ui_seed import seed

    return seed(settings)


@pytest.fixture
def ui(settings: Settings, seeded: Any) -> Iterator[Any]:
    """The dashboard on 127.0.0.1 over the seeded home (tests/support/ui_client.UiServer)."""
    from tests.support.ui_client import serve_ui

    with serve_ui(settings) as server:
        yield server


@pytest.fixture
def client(ui: Any) -> Any:
    """A logged-in HTTP client of `ui` that sends the CSRF token (ui_client.UiClient)."""
    return ui.client()

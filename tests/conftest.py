"""Shared fixtures: every test gets its own data home; stores are real SQLite files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ACONTEXT_HOME at a temp dir so no test can touch the user's real data."""
    monkeypatch.setenv("ACONTEXT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ACONTEXT_SKILLS_DIR", raising=False)
    for name in ("ACONTEXT_MAX_ARTIFACT_BYTES", "ACONTEXT_BLOB_THRESHOLD", "ACONTEXT_LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    # Hooks must not start background workers unless a test asks for one (ACONTEXT_WORKER=on),
    # and no test may reach a real LLM through keys or URLs that happen to be set on the machine.
    monkeypatch.setenv("ACONTEXT_WORKER", "off")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_BASE_URL",
                 "ANTHROPIC_BASE_URL", "ACONTEXT_LLM_BASE_URL", "ACONTEXT_LLM_MODEL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "home", skills_dir=tmp_path / "skills")
    s.ensure_dirs()
    return s


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

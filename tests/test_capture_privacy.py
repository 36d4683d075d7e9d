"""Capture switches: global, per session, per project (marker or config), with real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.privacy.switches import (
    CAPTURE_ENV,
    PROJECT_MARKER,
    capture_allowed,
    set_project_capture,
    set_session_capture,
)


@pytest.fixture(autouse=True)
def _home_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$HOME is a temp dir (the marker walk stops there); capture env is unset."""
    (tmp_path / "user").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv(CAPTURE_ENV, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "user" / "work" / "app"
    path.mkdir(parents=True)
    return path


def allowed(settings: Settings, project: Path | str | None = None, session: str | None = "s1"):
    return capture_allowed(
        settings, project_dir=str(project) if project else None, session_id=session
    )


class TestDefault:
    def test_capture_is_allowed_when_no_switch_is_set(self, settings: Settings, project: Path):
        assert allowed(settings, project) == (True, "")

    def test_no_project_and_no_session_is_allowed(self, settings: Settings):
        assert capture_allowed(settings, project_dir=None, session_id=None) == (True, "")


class TestGlobal:
    @pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no", " disabled "])
    def test_env_var_switches_capture_off(
        self, settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch, value: str
    ):
        monkeypatch.setenv(CAPTURE_ENV, value)
        ok, reason = allowed(settings, project)
        assert not ok and CAPTURE_ENV in reason

    @pytest.mark.parametrize("value", ["on", "1", ""])
    def test_other_env_values_leave_capture_on(
        self, settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch, value: str
    ):
        monkeypatch.setenv(CAPTURE_ENV, value)
        assert allowed(settings, project)[0]

    def test_global_marker_file_switches_capture_off(self, settings: Settings, project: Path):
        (settings.home / "capture-off").touch()
        ok, reason = allowed(settings, project)
        assert not ok and "globally" in reason and str(settings.home) in reason


class TestSession:
    def test_switching_a_session_off_and_on(self, settings: Settings, project: Path):
        marker = set_session_capture(settings, "abc-123", False)
        assert marker == settings.home / "capture-off-sessions" / "abc-123"
        ok, reason = allowed(settings, project, "abc-123")
        assert not ok and "abc-123" in reason
        assert allowed(settings, project, "other-session") == (True, "")
        set_session_capture(settings, "abc-123", True)
        assert allowed(settings, project, "abc-123") == (True, "")

    def test_switching_on_a_session_that_was_never_off_is_fine(self, settings: Settings):
        set_session_capture(settings, "never-off", True)
        assert allowed(settings, None, "never-off") == (True, "")

    def test_a_fresh_home_gets_the_sessions_folder(self, tmp_path: Path):
        settings = Settings(home=tmp_path / "fresh", skills_dir=tmp_path / "skills")
        set_session_capture(settings, "s", False)
        assert not allowed(settings, None, "s")[0]

    @pytest.mark.parametrize("bad", ["", "..", ".", "a/b", "../escape", "x" * 129, "a\0b"])
    def test_unsafe_session_ids_are_refused(self, settings: Settings, bad: str):
        with pytest.raises(InvalidInput, match="session id"):
            set_session_capture(settings, bad, False)

    def test_an_unsafe_session_id_never_reads_outside_the_sessions_folder(self, settings: Settings):
        (settings.home / "capture-off-sessions").mkdir()
        (settings.home / "escape").touch()
        assert allowed(settings, None, "../escape") == (True, "")


class TestProjectMarker:
    def test_marker_in_the_project_switches_it_off(self, settings: Settings, project: Path):
        marker = set_project_capture(project, False)
        assert marker == project / PROJECT_MARKER and marker.is_file()
        ok, reason = allowed(settings, project)
        assert not ok and str(marker) in reason
        set_project_capture(project, True)
        assert not marker.exists()
        assert allowed(settings, project) == (True, "")

    def test_marker_in_a_parent_covers_subdirectories(self, settings: Settings, project: Path):
        set_project_capture(project.parent, False)
        sub = project / "src" / "pkg"
        sub.mkdir(parents=True)
        assert not allowed(settings, sub)[0]
        assert not allowed(settings, project)[0]

    def test_marker_in_home_covers_every_project_under_home(
        self, settings: Settings, project: Path
    ):
        set_project_capture(os.environ["HOME"], False)
        assert not allowed(settings, project)[0]

    def test_the_walk_stops_at_home(self, settings: Settings, project: Path, tmp_path: Path):
        (tmp_path / PROJECT_MARKER).touch()  # above $HOME: not the user's to set
        assert allowed(settings, project) == (True, "")

    def test_outside_home_the_walk_goes_to_the_root(self, settings: Settings, tmp_path: Path):
        (tmp_path / PROJECT_MARKER).touch()
        elsewhere = tmp_path / "srv" / "repo"
        elsewhere.mkdir(parents=True)
        assert not allowed(settings, elsewhere)[0]

    def test_a_sibling_marker_does_not_apply(self, settings: Settings, project: Path):
        sibling = project.parent / "other"
        sibling.mkdir()
        set_project_capture(sibling, False)
        assert allowed(settings, project) == (True, "")

    def test_relative_project_dirs_are_resolved(
        self, settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch
    ):
        set_project_capture(project, False)
        monkeypatch.chdir(project.parent)
        assert not allowed(settings, "app")[0]

    def test_enabling_keeps_a_parents_marker(self, settings: Settings, project: Path):
        set_project_capture(project.parent, False)
        set_project_capture(project, True)
        ok, reason = allowed(settings, project)
        assert not ok and str(project.parent / PROJECT_MARKER) in reason

    def test_a_missing_directory_is_refused(self, tmp_path: Path):
        with pytest.raises(InvalidInput, match="not a directory"):
            set_project_capture(tmp_path / "missing", False)


class TestConfigExclusions:
    def write_config(self, settings: Settings, value: object) -> None:
        (settings.home / "config.json").write_text(json.dumps(value))

    def test_an_exact_path_excludes_the_project_and_below(self, settings: Settings, project: Path):
        self.write_config(settings, {"capture": {"exclude_projects": [str(project)]}})
        ok, reason = allowed(settings, project)
        assert not ok and "config.json" in reason
        sub = project / "src"
        sub.mkdir()
        assert not allowed(settings, sub)[0]
        assert allowed(settings, project.parent)[0]

    def test_a_glob_and_a_tilde_path(self, settings: Settings, project: Path):
        self.write_config(settings, {"capture": {"exclude_projects": ["~/work/a*"]}})
        assert not allowed(settings, project)[0]
        other = project.parent / "billing"
        other.mkdir()
        assert allowed(settings, other)[0]

    def test_a_symlinked_project_matches_its_real_path(
        self, settings: Settings, project: Path, tmp_path: Path
    ):
        link = tmp_path / "user" / "link-to-app"
        link.symlink_to(project)
        self.write_config(settings, {"capture": {"exclude_projects": [str(project)]}})
        assert not allowed(settings, link)[0]

    def test_a_config_without_exclusions_allows(self, settings: Settings, project: Path):
        self.write_config(settings, {"llm": {"provider": "openai"}})
        assert allowed(settings, project) == (True, "")
        self.write_config(settings, {"capture": {"exclude_projects": []}})
        assert allowed(settings, project) == (True, "")

    @pytest.mark.parametrize(
        "content",
        ["{not json", "[1, 2]", '{"capture": {"exclude_projects": "/one/path"}}'],
    )
    def test_an_unusable_config_keeps_capture_off_and_says_so(
        self, settings: Settings, project: Path, content: str
    ):
        (settings.home / "config.json").write_text(content)
        ok, reason = allowed(settings, project)
        assert not ok and "config.json" in reason

    def test_config_is_not_consulted_without_a_project(self, settings: Settings):
        (settings.home / "config.json").write_text("{not json")
        assert allowed(settings, None) == (True, "")


class TestOrder:
    def test_the_cheapest_switch_is_reported_first(
        self, settings: Settings, project: Path, monkeypatch: pytest.MonkeyPatch
    ):
        set_project_capture(project, False)
        set_session_capture(settings, "s1", False)
        assert "session" in allowed(settings, project, "s1")[1]
        (settings.home / "capture-off").touch()
        assert "globally" in allowed(settings, project, "s1")[1]
        monkeypatch.setenv(CAPTURE_ENV, "off")
        assert CAPTURE_ENV in allowed(settings, project, "s1")[1]


class TestCommand:
    def _cli(self, settings: Settings, cwd: Path, *args: str) -> str:
        import subprocess
        import sys

        env = {**os.environ, "ACONTEXT_HOME": str(settings.home)}
        env.pop(CAPTURE_ENV, None)
        done = subprocess.run(
            [sys.executable, "-m", "acontext_mcp", "capture", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def test_switches_flip_what_the_hooks_check(self, settings: Settings, project: Path):
        assert "capture is on" in self._cli(settings, project, "status")
        self._cli(settings, project, "off")
        assert allowed(settings, project)[0] is False
        assert "capture is off" in self._cli(settings, project, "status")
        self._cli(settings, project, "on")
        assert allowed(settings, project) == (True, "")
        self._cli(settings, project, "off", "--new", "--session", "abc-1")
        assert allowed(settings, project, "abc-1")[0] is False
        assert allowed(settings, project, "other")[0] is True
        self._cli(settings, project, "off", "--all")
        assert "globally" in allowed(settings, project, "other")[1]
        out = self._cli(settings, project, "on", "--session", "abc-1")
        assert "still off" in out

"""Capture switches: whether a turn may be captured at all, decided with cheap file checks.

Capture is off when any switch says so: globally (env `ACONTEXT_CAPTURE=off` or the marker
`<home>/capture-off`), for a session (`<home>/capture-off-sessions/<id>`), for a project (a
`.acontext-off` file in its directory or a parent, or `capture.exclude_projects` in
`<home>/config.json`). Markers are files so one shell command flips them for a running agent,
and the hook hot path pays a few `stat` calls. Stdlib only: this runs inside hooks.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from pathlib import Path

from acontext_mcp.config import Settings, capture_switch, user_home_env
from acontext_mcp.errors import InvalidInput
from acontext_mcp.private import user_mode

CAPTURE_ENV = "ACONTEXT_CAPTURE"
OFF_VALUES = frozenset({"off", "0", "false", "no", "disabled"})
GLOBAL_MARKER = "capture-off"
SESSIONS_DIR = "capture-off-sessions"
PROJECT_MARKER = ".acontext-off"
CONFIG_FILE = "config.json"

# Session ids become file names: no separators, no dot-only names, bounded length.
_SAFE_SESSION_ID = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$")


def _session_marker(settings: Settings, session_id: str) -> Path:
    return settings.home / SESSIONS_DIR / session_id


def _walk_bound(start: str) -> str | None:
    """Where the upward marker search stops (inclusive), or None for the filesystem root.

    Trigger: a project inside $HOME. Why: a marker above $HOME (`/home/.acontext-off`) is in
    a directory the user usually does not own, so it is not theirs to set; stopping there also
    bounds the stats on deep trees and network mounts. Outcome: projects under $HOME look up
    to and including $HOME; projects elsewhere (/srv, /tmp, containers) look up to `/`.
    """
    home = user_home_env()
    if not home:
        return None
    home = os.path.normpath(os.path.abspath(home))
    if start == home or start.startswith(home.rstrip(os.sep) + os.sep):
        return home
    return None


def _project_marker(project: str) -> str | None:
    bound = _walk_bound(project)
    current = project
    while True:
        marker = os.path.join(current, PROJECT_MARKER)
        if os.path.exists(marker):
            return marker
        if current == bound:
            return None
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _excluded_by_config(settings: Settings, project: str) -> str | None:
    """The matching `capture.exclude_projects` entry, or a reason when config is unusable.

    Trigger: a config.json that is not valid JSON or has the wrong shape. Why: it may be the
    very entry that excludes this project; guessing "allowed" could store what the user
    meant to keep out. Outcome: capture stays off, and the reason says to fix the file.
    """
    path = settings.home / CONFIG_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror}); fix it to resume capture"
    try:
        entries = (json.loads(raw).get("capture") or {}).get("exclude_projects") or []
    except (ValueError, AttributeError):
        return f"{path} is not a JSON object with capture.exclude_projects; fix it to resume"
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        return f"{path}: capture.exclude_projects must be a list of paths or globs"
    candidates = [project]
    real = os.path.realpath(project)
    if real != project:
        candidates.append(real)
    for entry in entries:
        pattern = os.path.normpath(os.path.abspath(os.path.expanduser(entry)))
        for candidate in candidates:
            if _matches(candidate, pattern):
                return f"{path} excludes {entry!r}"
    return None


def _matches(project: str, pattern: str) -> bool:
    """The project or one of its parents is `pattern` (a path or a glob; `*` crosses `/`)."""
    current = project
    while True:
        if fnmatch.fnmatchcase(current, pattern):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def capture_allowed(
    settings: Settings, *, project_dir: str | None, session_id: str | None
) -> tuple[bool, str]:
    """Whether a turn of this project and session may be captured; if not, the reason.

    Checks run cheapest first: env, global marker, session marker, project markers, config.
    """
    env = capture_switch()
    if env in OFF_VALUES:
        return False, f"{CAPTURE_ENV}={env}"
    global_marker = settings.home / GLOBAL_MARKER
    if global_marker.exists():
        return False, f"capture is off globally ({global_marker} exists)"
    if session_id and _SAFE_SESSION_ID.match(session_id):
        marker = _session_marker(settings, session_id)
        if marker.exists():
            return False, f"capture is off for session {session_id} ({marker} exists)"
    if project_dir:
        project = os.path.normpath(os.path.abspath(os.path.expanduser(project_dir)))
        found = _project_marker(project)
        if found:
            return False, f"capture is off for this project ({found} exists)"
        excluded = _excluded_by_config(settings, project)
        if excluded:
            return False, f"capture is off for this project: {excluded}"
    return True, ""


def session_switched_off(settings: Settings, session_id: str) -> bool:
    """Whether `capture off --session` holds for this exact id (a marker file exists)."""
    return bool(_SAFE_SESSION_ID.match(session_id or "")) and (
        _session_marker(settings, session_id).is_file()
    )


def set_session_capture(settings: Settings, session_id: str, enabled: bool) -> Path:
    """Switch capture of one session on or off (also while it runs); returns the marker path."""
    if not _SAFE_SESSION_ID.match(session_id or ""):
        raise InvalidInput(
            f"session id {session_id!r} cannot name a marker file: use letters, digits, '.', "
            "'_' or '-' (at most 128)"
        )
    marker = _session_marker(settings, session_id)
    if enabled:
        marker.unlink(missing_ok=True)
    else:
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.write_text("capture of this session is off; delete this file to resume\n")
    return marker


def set_project_capture(project_dir: str | os.PathLike[str], enabled: bool) -> Path:
    """Write or remove `.acontext-off` in this directory; returns the marker path.

    Enabling removes only this directory's marker: a parent's marker or a config.json entry
    still keeps capture off (`capture_allowed` names which).
    """
    directory = Path(project_dir).expanduser()
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory; pass the project's directory")
    marker = directory / PROJECT_MARKER
    if enabled:
        marker.unlink(missing_ok=True)
    else:
        new = not marker.exists()
        marker.write_text("acontext-mcp does not capture sessions in this directory or below\n")
        if new:  # the project's file, not ours: the user's umask, not our owner-only one
            os.chmod(marker, user_mode(0o666))
    return marker

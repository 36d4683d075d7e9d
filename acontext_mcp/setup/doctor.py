"""`acontext-mcp doctor`: prove the installation works the way the host agent will use it.

Configuration can look right and still fail (a moved venv, a hook that prints junk, a schema
from a newer release), so doctor does not just read settings: it runs the hook commands it
finds there through the shell, as the host would, on a synthetic turn (a two-line transcript in
a temp dir), checks the turn reached the store, times each hook, then deletes that session. It
starts the registered MCP server and asks it for tools/list. Each finding says what to do.

This module runs the checks in order and does the cheap ones (PATH, store, capture switch,
hooks.log); `doctor_hooks` fires the hooks, `doctor_mcp` probes the server.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError
from acontext_mcp.setup import EXECUTABLE
from acontext_mcp.setup import doctor_files as files
from acontext_mcp.setup import doctor_hooks as hooks
from acontext_mcp.setup import doctor_mcp as mcp
from acontext_mcp.setup.doctor_learning import check_learning
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.setup.doctor_stale import check_stale

LOG_WINDOW = 24 * 3600  # hooks.log errors younger than this are reported


def run(
    settings: Settings, *, project: str | None = None, timeout: float = 30.0, fix: bool = False
) -> Report:
    """Every check, in the order a user would fix things. `fix` tightens loose file modes."""
    report = Report()
    proj = Path(project or os.getcwd()).expanduser().absolute()
    _check_path(report)
    _check_store(report, settings)
    files.check_modes(report, settings, fix=fix)
    _check_capture_switch(report, settings, proj)
    probed: mcp.Probed = {}
    installed = _claude_code(report, settings, proj, timeout, probed)
    installed = _openclaw(report, settings, timeout, probed) or installed
    if not installed:
        report.add(
            "install",
            "fail",
            "acontext-mcp is not installed for any agent",
            "acontext-mcp install claude-code (or: install openclaw)",
        )
    _check_logs(report, settings.logs_dir / "hooks.log")
    check_learning(report, settings)
    check_stale(report, settings)
    from acontext_mcp.llm.select import NO_PROVIDER, describe
    from acontext_mcp.llm.setting import TURN_ON

    line = describe(settings)  # the provider the worker will use, from config.json and env
    if line.startswith(NO_PROVIDER):
        hint = None if TURN_ON in line else f"to turn learning on: {TURN_ON}"
        report.add("llm", "info", line, hint)
    else:
        report.add("llm", "ok", line)
    return report


# --- Agents ---


def _claude_code(
    report: Report, settings: Settings, project: Path, timeout: float, probed: mcp.Probed
) -> bool:
    """Whether anything of ours is set up for Claude Code; if so, its hooks and server."""
    found, plugin = hooks.found_hooks(report, project)
    servers = mcp.claude_servers(report, project)
    if not found and not plugin and not servers:
        report.add("claude-code", "info", "not installed for Claude Code")
        return False
    hooks.check_claude_hooks(report, settings, found, plugin, timeout)
    mcp.check_claude_server(report, servers, plugin, timeout, probed)
    return True


def _openclaw(report: Report, settings: Settings, timeout: float, probed: mcp.Probed) -> bool:
    """Whether the OpenClaw plugin is set up; if so, its config, hook and server."""
    data = hooks.check_openclaw(report, settings, timeout)
    if data is None:
        return False
    mcp.check_openclaw_server(report, data, timeout, probed)
    return True


# --- Environment and store ---


def _check_path(report: Report) -> None:
    found = shutil.which(EXECUTABLE)
    if found:
        report.add("path", "ok", f"{EXECUTABLE} on PATH: {found}")
    else:
        report.add(
            "path",
            "warn",
            f"{EXECUTABLE} is not on PATH (installed hooks use absolute "
            "paths; the Claude Code plugin and OpenClaw's default need PATH)",
            "add the directory holding acontext-mcp to PATH, or use pipx",
        )


def _check_store(report: Report, settings: Settings) -> None:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.migrations import schema_version
    from acontext_mcp.store.sessions import count_sessions

    db = settings.db_path
    if not files.check_writable(report, settings) or not files.check_integrity(report, settings):
        return
    try:
        with closing(open_db(settings)) as conn:
            version = schema_version(conn)
            count_sessions(conn)  # the store is readable
    except AcontextError as exc:  # SchemaTooNew says what to do itself
        report.add("store", "fail", str(exc))
        return
    except (sqlite3.Error, OSError) as exc:
        report.add(
            "store",
            "fail",
            f"database {db} is unusable: {exc}",
            "move it away (acontext-mcp creates a new one) or restore a backup",
        )
        return
    report.add("store", "ok", f"{db} (schema v{version})")


def _check_capture_switch(report: Report, settings: Settings, project: Path) -> None:
    from acontext_mcp.privacy.switches import capture_allowed

    try:
        allowed, why = capture_allowed(settings, project_dir=str(project), session_id=None)
    except AcontextError as exc:
        allowed, why = False, str(exc)
    if allowed:
        report.add("capture", "ok", f"capture is on for {project}")
    else:
        report.add(
            "capture",
            "warn",
            f"capture is switched off for {project}: {why}",
            "remove the marker named above if that is not what you want",
        )


def _check_logs(report: Report, log: Path) -> None:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-2000:]
    except FileNotFoundError:
        report.add("logs", "info", f"no hook has run yet ({log} does not exist)")
        return
    except OSError as exc:
        report.add("logs", "warn", f"cannot read {log}: {exc}")
        return
    stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \d+ (.*)$")
    cutoff = time.time() - LOG_WINDOW
    errors = []
    starts = ready = 0
    for line in lines:
        m = stamp.match(line)
        if not m or time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) < cutoff:
            continue
        text = m.group(2)
        if " error " in f" {text} " or "not found on PATH" in text:
            errors.append(text)
        elif text.startswith("claude-code SessionStart ok (detached"):  # not doctor's own
            starts += 1
            ready += "prepared answer" in text
    if starts:
        report.add(
            "session-start",
            "info",
            f"{ready} of the {starts} Claude Code session starts in the last 24 h were answered "
            "from an answer prepared ahead; the others were built live (the project's store, "
            "a skill the brief reads or a SKILL.md had changed since, or a file was too recent "
            "to trust)",
        )
    if errors:
        report.add(
            "logs",
            "warn",
            f"{len(errors)} hook error(s) in the last 24 h in {log}; latest: {errors[-1][:300]}",
            f"see the tracebacks in {log}",
        )
    else:
        report.add("logs", "ok", f"no hook errors in the last 24 h ({log})")

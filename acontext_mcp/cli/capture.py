"""`acontext-mcp capture on|off|status`: the privacy switches from a shell.

The switches are marker files (see privacy/switches.py), so flipping one takes effect at the
next hook of a running agent, with no restart. Each flip also opens or ends a capture gap
(capture/gaps.py), so what is written while off stays out even if no hook ran meanwhile.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from acontext_mcp.cli.args import project_dir
from acontext_mcp.config import Settings
from acontext_mcp.errors import NotFound
from acontext_mcp.privacy.switches import (
    CAPTURE_ENV,
    GLOBAL_MARKER,
    capture_allowed,
    session_switched_off,
    set_project_capture,
    set_session_capture,
)
from acontext_mcp.private import private_mkdir


def cmd_capture(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.cli.args import session_id

    project = args.project or os.getcwd()
    if args.session and not args.new and not session_switched_off(settings, args.session):
        # A typo must not silently switch off a session nobody has; --new names one that
        # has not been captured yet (its id as the agent shows it).
        try:
            args.session = session_id(settings, args.session)
        except NotFound as exc:
            raise NotFound(f"{exc}; for a session not captured yet, add --new") from None
    if args.action == "status":
        allowed, why = capture_allowed(settings, project_dir=project, session_id=args.session)
        scope = f"session {args.session} in {project}" if args.session else project
        print(f"capture is {'on' if allowed else 'off'} for {scope}" + (f": {why}" if why else ""))
        return 0
    enabled = args.action == "on"
    if args.all:
        marker = settings.home / GLOBAL_MARKER
        if enabled:
            marker.unlink(missing_ok=True)
        else:
            private_mkdir(settings.home)
            marker.write_text("acontext-mcp capture is off everywhere; delete this to resume\n")
        where = "everywhere"
    elif args.session:
        marker = set_session_capture(settings, args.session, enabled)
        where = f"for session {args.session}"
    else:
        marker = set_project_capture(project, enabled)
        where = f"for {project} and below"
    _capture_gap(settings, args, project, start=not enabled)
    verb = "removed" if enabled else "wrote"
    print(f"capture {args.action} {where} ({verb} {marker})")
    if enabled:
        allowed, why = capture_allowed(settings, project_dir=project, session_id=args.session)
        if not allowed:
            print(f"note: capture is still off here: {why}")
    return 0


def _capture_gap(
    settings: Settings, args: argparse.Namespace, project: str, *, start: bool
) -> None:
    """`off` opens a capture gap for the switch's scope and `on` ends it: turns written in
    between are never stored, even when no hook ran to see the switch (capture/gaps.py)."""
    from acontext_mcp.capture import gaps
    from acontext_mcp.store.db import open_db

    if args.all:
        scope, value = "all", None
    elif args.session:
        scope, value = "session", args.session
    else:
        scope, value = "project", project
    conn = open_db(settings)
    try:
        (gaps.open_gap if start else gaps.close_gap)(conn, scope, value)
    finally:
        conn.close()


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "capture",
        cmd_capture,
        "Switch capture off or on for a project, a session or everywhere; show its state.",
    )
    p.add_argument("action", choices=["on", "off", "status"])
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--project", type=project_dir, help="project directory (default: the current directory)"
    )
    group.add_argument(
        "--session",
        help="one captured session: its id or a unique prefix (`acontext-mcp sessions`)",
    )
    group.add_argument(
        "--all", action="store_true", help=f"every project and session (also: {CAPTURE_ENV}=off)"
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="with --session: a session not captured yet (its id as the agent shows it)",
    )

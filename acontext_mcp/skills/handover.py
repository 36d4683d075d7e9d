"""Which skills OpenClaw's Skill Workshop holds for us, read where sync needs it.

skills/workshop.py writes `<home>/workshop.json`; a skill applied through the Workshop is
*handed over* there, and sync leaves it out of OpenClaw's shared skills folder (that folder
outranks the Workshop's own and would hide it). Sync runs in the session-start hooks, so this
reader is a module of its own: standard library only, one JSON read, never raises
(workshop.py itself loads the redactor and subprocess, tens of milliseconds).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from acontext_mcp.config import Settings, openclaw_state_dir

log = logging.getLogger(__name__)

STATE_FILE = "workshop.json"


def state_path(settings: Settings) -> Path:
    return settings.home / STATE_FILE


def handed_over(settings: Settings, state_dir: Path | None = None) -> frozenset[str]:
    """Skills the Workshop of this OpenClaw state dir holds for us (none when unknown)."""
    state_dir = state_dir or openclaw_state_dir()
    try:
        data = json.loads(state_path(settings).read_text(encoding="utf-8"))
        names = data["openclaw"][str(state_dir)]["handed_over"]
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Debug only: hooks call this, and a reconcile reports a broken file loudly.
        log.debug("no Workshop hand-overs read from %s (%r)", settings.home, exc)
        return frozenset()
    if not isinstance(names, dict):
        return frozenset()
    return frozenset(n for n in names if isinstance(n, str))

"""Doctor check: project runbooks that name files or make/npm/just targets their project no
longer has (skills/stale.py). A stale command costs an agent a failed run before it finds
the right one, so the user hears which, and how to have them removed (`skills retire`)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from acontext_mcp.config import Settings
from acontext_mcp.setup.doctor_report import Report

SHOWN = 4  # references named per runbook; --json lists them all


def check_stale(report: Report, settings: Settings) -> None:
    if not (settings.skills_dir / ".git").exists():
        return  # check_learning says the repository comes on first use
    from acontext_mcp.errors import AcontextError
    from acontext_mcp.learn.retire import stale_findings
    from acontext_mcp.store.db import open_db

    try:
        with closing(open_db(settings)) as conn:
            found = stale_findings(conn, settings)
    except (sqlite3.Error, OSError, AcontextError):
        found = stale_findings(None, settings)  # runbooks with a Path header still count
    for finding in found:
        refs = [r["ref"] for r in finding.details["refs"]]
        more = f" and {len(refs) - SHOWN} more" if len(refs) > SHOWN else ""
        summary = (
            f"{finding.details['file']} names what {finding.details['project']} no longer has: "
            + "; ".join(refs[:SHOWN])
            + more
        )
        fix = (
            "acontext-mcp skills retire (proposes removing the stale entries)"
            if finding.files
            else f"edit {settings.skills_dir / finding.details['file']}: those lines are yours"
        )
        report.add("runbooks", "warn", summary, fix)

"""`<home>/config.json`: the user's settings that do not fit an environment variable.

Per-project entries live under `projects.<absolute project dir>`. Readers here treat a missing
file as "no settings" and a broken one as "no settings, logged": they serve advice (task
criteria, a learning space), never a safety switch (capture exclusion reads the file itself and
fails closed).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from acontext_mcp.config import Settings

CONFIG_FILE = "config.json"

log = logging.getLogger("acontext.config")


def load(settings: Settings) -> dict[str, Any]:
    path = settings.home / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return {}
    if not isinstance(data, dict):
        log.warning("ignoring %s: not a JSON object", path)
        return {}
    return data


def project_setting(settings: Settings, project_dir: str | None, key: str) -> Any:
    """`projects.<project_dir>.<key>`, or None."""
    if not project_dir:
        return None
    projects = load(settings).get("projects")
    entry = projects.get(project_dir) if isinstance(projects, dict) else None
    return entry.get(key) if isinstance(entry, dict) else None

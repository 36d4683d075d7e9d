"""`<home>/config.json`: the user's settings that do not fit an environment variable.

Per-project entries live under `projects.<absolute project dir>`. Readers here treat a missing
file as "no settings" and a broken one as "no settings, logged": they serve advice (task
criteria, a learning space), never a safety switch (capture exclusion reads the file itself and
fails closed; the LLM provider falls back to `none`, see llm/setting.py). `update` is the one
writer: it changes one top-level key and keeps the rest (`update_entry`: one entry of a
section).
"""

from __future__ import annotations

import json

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.fsio import replace_file

TYPE_CHECKING = False  # typing (and logging) are not imported on the hook path: SessionStart
if TYPE_CHECKING:  # reads this file while Claude Code waits; type checkers read this as True
    from typing import Any

CONFIG_FILE = "config.json"
LOGGER = "acontext.config"


def read(settings: Settings) -> tuple[dict[str, Any], str | None]:
    """(the file's object, None), or ({}, why it cannot be used). A missing file is no
    problem: it means no settings."""
    path = settings.home / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as exc:
        return {}, f"{path} cannot be used: {exc}"
    if not isinstance(data, dict):
        return {}, f"{path} is not a JSON object"
    return data, None


def load(settings: Settings) -> dict[str, Any]:
    data, problem = read(settings)
    if problem:
        import logging  # only when there is something to say

        logging.getLogger(LOGGER).warning("ignoring %s", problem)
    return data


def update(settings: Settings, key: str, value: Any) -> None:
    """Set top-level `key` to `value`, keeping every other entry. A file that cannot be read
    as a JSON object is refused, untouched, so nothing the user wrote in it is lost."""
    data, problem = read(settings)
    if problem:
        raise InvalidInput(f"{problem}; fix or move it, then run this again")
    data[key] = value
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    replace_file(settings.home / CONFIG_FILE, text.encode("utf-8"), prefix=".config-", mode=0o600)


def update_entry(settings: Settings, key: str, name: str, value: Any) -> None:
    """Set `key.name` (e.g. `learning.accept`), keeping the section's other entries and the
    file's other keys; refused, untouched, like `update`, when the file cannot be read."""
    data, problem = read(settings)
    if problem:
        raise InvalidInput(f"{problem}; fix or move it, then run this again")
    section = data.get(key)
    section = dict(section) if isinstance(section, dict) else {}
    section[name] = value
    update(settings, key, section)


def project_setting(settings: Settings, project_dir: str | None, key: str) -> Any:
    """`projects.<project_dir>.<key>`, or None."""
    if not project_dir:
        return None
    projects = load(settings).get("projects")
    entry = projects.get(project_dir) if isinstance(projects, dict) else None
    return entry.get(key) if isinstance(entry, dict) else None

"""Check a skill folder against the Agent Skills specification before it is committed.

Rules (agentskills.io/specification): `SKILL.md` opens with YAML front matter holding `name`
(1-64 characters: lowercase letters, digits and hyphens, no leading, trailing or double hyphen,
equal to the folder name) and `description` (1-1024 characters saying what the skill does and
when to use it); the body stays under 500 lines. We add: every file is a real file (no symlink,
inside or out: skills/contained.py never follows one), text files are UTF-8, and no file holds
git conflict markers (a merge left unfinished).

Both functions return a list of problems, each a sentence saying what to fix; empty when valid.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from acontext_mcp.errors import AcontextError, InvalidInput
from acontext_mcp.skills import SKILL_FILE, contained
from acontext_mcp.skills.gitstate import conflict_marker_line
from acontext_mcp.skills.skillmd import parse_skill_md, split_front_matter

MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 1024
MAX_BODY_LINES = 500
MAX_COMPATIBILITY_CHARS = 500
TEXT_SUFFIXES = frozenset({
    ".md", ".txt", ".py", ".sh", ".js", ".ts", ".json", ".yaml", ".yml", ".toml", ".sql",
    ".rst", ".html", ".css", ".go", ".rs", ".java", ".rb", ".cfg", ".ini", ".csv",
})  # fmt: skip
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def name_problems(name: object) -> list[str]:
    """Problems with a skill name on its own (not counting the folder it sits in)."""
    if not isinstance(name, str) or not name:
        return ["front matter needs a non-empty 'name' (lowercase letters, digits, hyphens)"]
    problems: list[str] = []
    if len(name) > MAX_NAME_CHARS:
        problems.append(f"name is {len(name)} characters; at most {MAX_NAME_CHARS} allowed")
    if not _NAME.fullmatch(name):
        if re.search(r"[^a-z0-9-]", name):
            problems.append(f"name {name!r} may contain only lowercase letters, digits and hyphens")
        if name.startswith("-") or name.endswith("-"):
            problems.append(f"name {name!r} must not start or end with a hyphen")
        if "--" in name:
            problems.append(f"name {name!r} must not contain two hyphens in a row")
    return problems


def validate_text(name: str, text: str) -> list[str]:
    """Problems with the SKILL.md `text` of the skill in folder `name`."""
    try:
        front_text, _ = split_front_matter(text)
    except InvalidInput as exc:
        return [f"{SKILL_FILE} front matter: {exc}"]
    if front_text is None:
        return [
            f"{SKILL_FILE} must open with YAML front matter between '---' lines "
            "holding 'name' and 'description'"
        ]
    try:
        front, body = parse_skill_md(text)
    except InvalidInput as exc:
        return [f"{SKILL_FILE} front matter cannot be parsed: {exc}"]

    problems: list[str] = []
    declared = front.get("name")
    problems += name_problems(declared)
    if isinstance(declared, str) and declared and declared != name:
        problems.append(f"name {declared!r} must match the folder name {name!r}")

    description = front.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(
            "front matter needs a non-empty 'description' saying what the skill does and when "
            "to use it"
        )
    elif len(description.strip()) > MAX_DESCRIPTION_CHARS:
        problems.append(
            f"description is {len(description.strip())} characters; at most "
            f"{MAX_DESCRIPTION_CHARS} allowed"
        )

    compatibility = front.get("compatibility")
    if compatibility is not None and (
        not isinstance(compatibility, str) or len(compatibility) > MAX_COMPATIBILITY_CHARS
    ):
        problems.append(f"compatibility must be a string of at most {MAX_COMPATIBILITY_CHARS}")
    metadata = front.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        problems.append("metadata must be a mapping of keys to values")

    lines = len(body.splitlines())
    if lines >= MAX_BODY_LINES:
        problems.append(
            f"{SKILL_FILE} body is {lines} lines; keep it under {MAX_BODY_LINES} and move "
            "details into separate files"
        )
    return problems


def _read(folder: Path, rel: str) -> bytes:
    return contained.read_bytes(folder.parent, f"{folder.name}/{rel}")


def _conflict(rel: str, text: str) -> list[str]:
    line = conflict_marker_line(text)
    if line is None:
        return []
    return [
        f"{rel} line {line} holds git conflict markers (<<<<<<< ... >>>>>>>); keep the right "
        "version, delete the markers and commit"
    ]


def validate_skill(folder: Path) -> list[str]:
    """Problems with the skill folder `folder` (its name is the skill's name)."""
    folder = Path(folder)
    if folder.is_symlink():
        return [f"{folder.name} is a symlink; a skill must be a real folder"]
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    skill_md = folder / SKILL_FILE
    if skill_md.is_symlink():
        return [f"{folder.name}/{SKILL_FILE} is a symlink; it must be a real file"]
    if not skill_md.is_file():
        return [f"{folder.name} has no {SKILL_FILE} file"]

    problems: list[str] = []
    try:
        text = _read(folder, SKILL_FILE).decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{SKILL_FILE} is not valid UTF-8")
    except (AcontextError, OSError) as exc:
        problems.append(f"{SKILL_FILE} cannot be read: {exc}")
    else:
        problems += _conflict(SKILL_FILE, text) + validate_text(folder.name, text)

    for rel, st in contained.walk(folder):
        if st is None:
            if (folder / rel).is_symlink():
                problems.append(
                    f"{rel} is a symlink; skills hold real files only (links are never "
                    "followed nor synced): replace it with the file itself"
                )
            else:
                problems.append(f"{rel} is not a regular file (device, FIFO or socket)")
            continue
        if rel == SKILL_FILE or Path(rel).suffix.lower() not in TEXT_SUFFIXES:
            continue
        try:
            problems += _conflict(rel, _read(folder, rel).decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{rel} is not valid UTF-8 text")
        except (AcontextError, OSError) as exc:
            problems.append(f"{rel} cannot be read: {exc}")
    return problems


def validate_all(skills_dir: Path) -> dict[str, list[str]]:
    """Problems of every would-be skill in `skills_dir`, by folder name (valid ones included,
    with no problems): real folders holding a SKILL.md, and links standing where a skill would
    be, which are reported, never followed."""
    root = Path(skills_dir)
    try:
        entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    except OSError:
        return {}
    return {
        path.name: validate_skill(path)
        for path in entries
        if path.is_dir() and (path.is_symlink() or os.path.lexists(path / SKILL_FILE))
    }

"""Check a skill folder against the Agent Skills specification before it is committed.

Rules (agentskills.io/specification): `SKILL.md` opens with YAML front matter holding `name`
(1-64 characters: lowercase letters, digits and hyphens, no leading, trailing or double hyphen,
equal to the folder name) and `description` (1-1024 characters saying what the skill does and
when to use it); the body stays under 500 lines. We add: every file lives inside the folder (no
symlink leads out) and text files are UTF-8.

Both functions return a list of problems, each a sentence saying what to fix; empty when valid.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from acontext_mcp.errors import InvalidInput
from acontext_mcp.skills.skillmd import parse_skill_md, split_front_matter

SKILL_FILE = "SKILL.md"
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


def _outside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def validate_skill(folder: Path) -> list[str]:
    """Problems with the skill folder `folder` (its name is the skill's name)."""
    folder = Path(folder)
    if folder.is_symlink():
        return [f"{folder.name} is a symlink; a skill must be a real folder"]
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    skill_md = folder / SKILL_FILE
    if skill_md.is_symlink() or not skill_md.is_file():
        return [f"{folder.name} has no {SKILL_FILE} file"]

    root = folder.resolve()
    problems: list[str] = []
    try:
        text = skill_md.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{SKILL_FILE} is not valid UTF-8")
    else:
        problems += validate_text(folder.name, text)

    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        for entry in sorted(dirnames + filenames):
            path = here / entry
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                if _outside(path, root):
                    problems.append(f"{rel} is a symlink leading outside the skill folder")
                continue
            if entry in filenames and path.suffix.lower() in TEXT_SUFFIXES and rel != SKILL_FILE:
                try:
                    path.read_bytes().decode("utf-8")
                except UnicodeDecodeError:
                    problems.append(f"{rel} is not valid UTF-8 text")
                except OSError as exc:
                    problems.append(f"{rel} cannot be read: {exc.strerror or exc}")
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
    return problems

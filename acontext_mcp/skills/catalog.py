"""Read-only view of the skills directory: list, open, read files. Search is skills/index.py
(SQLite FTS5).

A skill is a folder holding SKILL.md (front matter `name`, `description`). Folders without
SKILL.md and hidden entries (.git) are ignored; a broken SKILL.md is listed with its error
rather than hiding the skill.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from acontext_mcp.disk.confine import confine
from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.skills.skillmd import parse_skill_md

SKILL_FILE = "SKILL.md"
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 500


def _skill_dirs(skills_dir: Path) -> list[Path]:
    if not skills_dir.is_dir():
        return []
    return sorted(
        p
        for p in skills_dir.iterdir()
        if not p.name.startswith(".") and p.is_dir() and (p / SKILL_FILE).is_file()
    )


def _describe(folder: Path) -> dict[str, Any]:
    info: dict[str, Any] = {"name": folder.name, "description": "", "path": str(folder)}
    try:
        front, _ = parse_skill_md((folder / SKILL_FILE).read_text(encoding="utf-8"))
    except (InvalidInput, UnicodeDecodeError, OSError) as exc:
        info["error"] = f"{SKILL_FILE} unreadable: {exc}"
        return info
    if isinstance(front.get("name"), str) and front["name"].strip():
        info["name"] = front["name"].strip()
    if front.get("description") is not None:
        info["description"] = str(front["description"]).strip()
    info["front_matter"] = front
    return info


def list_skills(skills_dir: Path) -> list[dict[str, Any]]:
    """Every skill with its one-line description, sorted by name."""
    skills = [_describe(folder) for folder in _skill_dirs(skills_dir)]
    for skill in skills:
        skill.pop("front_matter", None)
    return sorted(skills, key=lambda s: s["name"])


def _find(skills_dir: Path, name: str) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("skill name must not be empty: list_skills shows the names")
    folders = _skill_dirs(skills_dir)
    for folder in folders:
        if folder.name == name:
            return folder
    for folder in folders:
        if _describe(folder)["name"] == name:
            return folder
    known = ", ".join(sorted(_describe(f)["name"] for f in folders)) or "none yet"
    raise NotFound(f"no skill named {name!r}; known skills: {known}")


def _files(folder: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(dirpath) / filename
            if path.is_symlink():
                continue
            out.append({"path": path.relative_to(folder).as_posix(), "size": path.stat().st_size})
            if len(out) >= MAX_FILES:
                return out
    return out


def get_skill(skills_dir: Path, name: str) -> dict[str, Any]:
    """A skill's description, SKILL.md text and file list."""
    folder = _find(skills_dir, name)
    info = _describe(folder)
    info["content"] = (folder / SKILL_FILE).read_text(encoding="utf-8", errors="replace")
    info["files"] = _files(folder)
    return info


def get_skill_file(skills_dir: Path, name: str, path: str) -> dict[str, Any]:
    """One text file of a skill; the path is confined to the skill's folder."""
    folder = _find(skills_dir, name)
    target = confine(folder, path)
    if not target.is_file():
        files = ", ".join(f["path"] for f in _files(folder)[:20])
        raise NotFound(f"skill {name!r} has no file {path!r}; its files: {files}")
    size = target.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is {size} bytes; files over {MAX_FILE_BYTES} are not served")
    data = target.read_bytes()
    if b"\x00" in data[:8192]:
        raise InvalidInput(f"{path} is a binary file ({size} bytes) and cannot be shown as text")
    return {
        "skill": name,
        "path": target.relative_to(folder.resolve()).as_posix(),
        "content": data.decode("utf-8", errors="replace"),
    }

"""Read-only view of the skills directory: list, open, read files. Search is skills/index.py
(SQLite FTS5).

A skill is a folder holding SKILL.md (front matter `name`, `description`). Folders without
SKILL.md and hidden entries (.git) are ignored; a broken SKILL.md is listed with its error
rather than hiding the skill. Every read goes through skills/contained.py: a symbolic link under
the skills directory (folder, SKILL.md or file) is never followed.
"""

from __future__ import annotations

from pathlib import Path

from acontext_mcp.errors import AcontextError, InvalidInput, NotFound, PathEscape, TooLarge
from acontext_mcp.skills import SKILL_FILE, contained
from acontext_mcp.skills.skillmd import parse_skill_md

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator
    from typing import Any


def normalize(path: str) -> str:
    """disk.confine's path rule, imported on first use: it imports unicodedata, which
    list_skills (SessionStart's brief) never needs."""
    from acontext_mcp.disk.confine import normalize as confine_normalize

    return confine_normalize(path)


MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 500


def _skill_dirs(skills_dir: Path) -> list[Path]:
    return contained.skill_folders(skills_dir)


def _read_skill_md(folder: Path) -> str:
    data = contained.read_bytes(
        folder.parent, f"{folder.name}/{SKILL_FILE}", max_bytes=MAX_FILE_BYTES
    )
    return data.decode("utf-8")


def _describe(folder: Path) -> dict[str, Any]:
    info: dict[str, Any] = {"name": folder.name, "description": "", "path": str(folder)}
    try:
        front, _ = parse_skill_md(_read_skill_md(folder))
    except (AcontextError, UnicodeDecodeError, OSError) as exc:
        info["error"] = f"{SKILL_FILE} unreadable: {exc}"
        return info
    if isinstance(front.get("name"), str) and front["name"].strip():
        info["name"] = front["name"].strip()
    if front.get("description") is not None:
        info["description"] = str(front["description"]).strip()
    info["front_matter"] = front
    return info


def describe(folder: Path) -> dict[str, Any]:
    """One skill folder's name, description and path (or its error), without listing the
    others: for a caller that already knows the folder (contained.is_skill_folder)."""
    info = _describe(folder)
    info.pop("front_matter", None)
    return info


def list_skills(skills_dir: Path, *, skip: Collection[str] = ()) -> list[dict[str, Any]]:
    """Every skill with its one-line description, sorted by name; folders named in `skip` are
    left out unread (the SessionStart brief skips the skills the agent lists itself)."""
    skills = [_describe(folder) for folder in _skill_dirs(skills_dir) if folder.name not in skip]
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
    for rel, st in contained.walk(folder):
        if st is None:
            continue  # a link or special file: never listed, never read
        out.append({"path": rel, "size": st.st_size})
        if len(out) >= MAX_FILES:
            break
    return out


def skill_files(skills_dir: Path) -> Iterator[tuple[str, str, int]]:
    """(skill folder, path inside it, size) of every readable file of every skill, in name
    order: what a listing of all skill files (MCP resources) pages through."""
    for folder in _skill_dirs(skills_dir):
        for found in _files(folder):
            yield folder.name, found["path"], found["size"]


def get_skill(skills_dir: Path, name: str) -> dict[str, Any]:
    """A skill's description, SKILL.md text and file list."""
    folder = _find(skills_dir, name)
    info = _describe(folder)
    data = contained.read_bytes(skills_dir, f"{folder.name}/{SKILL_FILE}", max_bytes=MAX_FILE_BYTES)
    info["content"] = data.decode("utf-8", errors="replace")
    info["files"] = _files(folder)
    return info


def _in_skill_words(message: str, name: str, path: str) -> str:
    """A disk-path refusal reworded for a skill's folder, which is what the caller named."""
    if "'..'" in message:
        return (
            f"path {path!r} climbs out of skill {name!r} with '..'; name a file inside the "
            "skill's folder, e.g. SKILL.md (get_skill lists its files)"
        )
    return (
        message.replace("disk paths are relative to the disk root", "name a file inside the skill")
        .replace("disk paths use", "skill file paths use")
        .replace("a disk path", "a skill file path")
        .replace("the disk root", "the skill's folder")
    )


def get_skill_file(skills_dir: Path, name: str, path: str) -> dict[str, Any]:
    """One text file of a skill; the path stays inside the skill's folder, never through a link."""
    folder = _find(skills_dir, name)
    try:
        inner = normalize(path).lstrip("/")
    except PathEscape as exc:
        raise PathEscape(_in_skill_words(str(exc), name, path)) from None
    if not inner:
        raise InvalidInput(f"{path!r} is the skill folder itself; name a file inside it")
    try:
        data = contained.read_bytes(skills_dir, f"{folder.name}/{inner}", max_bytes=MAX_FILE_BYTES)
    except NotFound:
        files = ", ".join(f["path"] for f in _files(folder)[:20])
        raise NotFound(f"skill {name!r} has no file {path!r}; its files: {files}") from None
    except TooLarge as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    if b"\x00" in data[:8192]:
        size = len(data)
        raise InvalidInput(f"{path} is a binary file ({size} bytes) and cannot be shown as text")
    return {"skill": name, "path": inner, "content": data.decode("utf-8", errors="replace")}

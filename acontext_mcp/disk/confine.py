"""Keep every disk path inside its disk: the one place paths from a model or a user are checked.

A disk path is POSIX with the disk root at "/" ("/notes/a.md" == "notes/a.md"). `normalize`
refuses lexical tricks; `confine` then resolves symlinks and refuses anything landing outside the
root, so callers only ever open, write or delete what `confine` returned.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, NotFound, PathEscape

MAX_PATH_CHARS = 1024
DEFAULT_DISK = "default"

_DISK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_DRIVE = re.compile(r"^[A-Za-z]:")


def check_disk_name(name: str) -> str:
    """Return `name` if it is a valid disk name; it becomes a directory name, so be strict."""
    if not isinstance(name, str) or not _DISK_NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid disk name {name!r}: use 1-64 characters from a-z, 0-9, '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def disk_root(settings: Settings, name: str) -> Path:
    """Directory of disk `name` (not created here)."""
    return settings.disks_dir / check_disk_name(name)


def normalize(path: str) -> str:
    """Canonical disk path: "/"-rooted, no empty or "." components, no trailing slash.

    Refuses (PathEscape) anything that could mean a different place on another system or
    shell: "..", "~", backslashes, drive letters, NUL and control characters.
    """
    if not isinstance(path, str):
        raise PathEscape(f"a disk path must be a string, got {type(path).__name__}")
    shown = repr(path[:80] + ("..." if len(path) > 80 else ""))
    if len(path) > MAX_PATH_CHARS:
        raise PathEscape(f"path {shown} is {len(path)} characters; the limit is {MAX_PATH_CHARS}")
    if "\x00" in path:
        raise PathEscape(f"path {shown} contains a NUL byte")
    for ch in path:
        if ch != "\t" and unicodedata.category(ch) == "Cc":
            raise PathEscape(f"path {shown} contains control character {ch!r}")
    if "\\" in path:
        raise PathEscape(
            f"path {shown} contains a backslash; disk paths use '/' (Windows and UNC paths "
            "are not accepted)"
        )
    if _DRIVE.match(path):
        raise PathEscape(f"path {shown} looks like a Windows drive path; use '/dir/file'")
    if path.startswith("~"):
        raise PathEscape(f"path {shown} starts with '~'; disk paths are relative to the disk root")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise PathEscape(f"path {shown} contains '..'; use a path from the disk root instead")
    return "/" + "/".join(parts)


def parts_of(path: str) -> list[str]:
    """Components of a normalized disk path ([] for the root)."""
    return [part for part in normalize(path).split("/") if part]


def confine(root: Path, path: str, *, must_exist: bool = False) -> Path:
    """Real filesystem path of disk path `path` under `root`, with symlinks resolved.

    The result is always inside `root.resolve()`; a symlink leading elsewhere (outside, or into
    a sibling disk) raises PathEscape. With `must_exist`, a missing path raises NotFound.
    """
    norm = normalize(path)
    real_root = Path(os.path.realpath(root))
    candidate = real_root.joinpath(*parts_of(norm))
    resolved = Path(os.path.realpath(candidate))
    if resolved != real_root and not resolved.is_relative_to(real_root):
        raise PathEscape(
            f"path {norm!r} resolves outside the disk (through a symbolic link); "
            "only files inside the disk can be used"
        )
    if must_exist and not os.path.lexists(resolved):
        raise NotFound(f"{norm!r} does not exist on this disk")
    return resolved


def disk_path_of(root: Path, real: Path) -> str:
    """Disk path ("/a/b") of a real path that `confine` returned for `root`."""
    rel = Path(real).relative_to(os.path.realpath(root))
    return "/" + rel.as_posix() if rel.parts else "/"


def confine_entry(root: Path, path: str) -> Path:
    """Like `confine`, but the last component is not followed: the link itself, not its target.

    Delete and move act on directory entries; following a link there would remove or move a
    file the caller never named. The whole path must still resolve inside the disk.
    """
    confine(root, path)
    parts = parts_of(path)
    if not parts:
        return Path(os.path.realpath(root))
    return confine(root, "/".join(parts[:-1])) / parts[-1]

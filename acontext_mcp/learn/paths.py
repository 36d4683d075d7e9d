"""Path and text checks that both the learner's file tools and its journal apply.

A path is a clean relative POSIX path inside one skill folder (no "..", absolute, hidden or
Windows-looking paths); a file's text is UTF-8 without NUL bytes and under the size limit. This
is the lexical check only; the on-disk one (no symlink on the way) is the workspace's.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILE_BYTES = 100_000
MAX_READ_BYTES = 1_000_000
MAX_FILES_PER_SKILL = 200
MAX_PATH_CHARS = 512
_DRIVE = re.compile(r"^[A-Za-z]:")


class Refused(Exception):
    """A tool call the model must redo differently; becomes "Error: ..." text."""


class Escape(Refused):
    """A path that would pass through a symbolic link."""


def text_problem(content: object, what: str) -> str | None:
    if not isinstance(content, str):
        return f"{what} must be a string"
    if "\x00" in content:
        return f"{what} contains a NUL byte; skills hold text files only"
    size = len(content.encode("utf-8", errors="surrogatepass"))
    if size > MAX_FILE_BYTES:
        return (
            f"{what} is {size} bytes; keep each file under {MAX_FILE_BYTES} bytes "
            "(split it into several files)"
        )
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid Unicode text"
    return None


def check_rel_path(path: object) -> str:
    """`path` as a clean relative POSIX path inside a skill folder, or Refused saying why."""
    if not isinstance(path, str) or not path:
        raise Refused("file_path must be a non-empty path relative to the skill folder")
    shown = repr(path[:80])
    if len(path) > MAX_PATH_CHARS:
        raise Refused(f"path {shown} is longer than {MAX_PATH_CHARS} characters")
    if "\x00" in path or any(unicodedata.category(c) == "Cc" for c in path):
        raise Refused(f"path {shown} contains a control character")
    if "\\" in path:
        raise Refused(f"path {shown} contains a backslash; use '/' between folders")
    if path.startswith("/") or _DRIVE.match(path):
        raise Refused(f"path {shown} is absolute; give it relative to the skill folder")
    if path.startswith("~"):
        raise Refused(f"path {shown} starts with '~'; give it relative to the skill folder")
    if ".." in path:  # even inside a name: never worth the doubt
        raise Refused(f"path {shown} contains '..'; paths stay inside the skill folder")
    parts = path.split("/")
    if any(p == "" for p in parts):
        raise Refused(f"path {shown} has an empty part ('//' or a leading/trailing '/')")
    if any(p.startswith(".") for p in parts):
        raise Refused(f"path {shown} has a part starting with '.'; hidden files are not allowed")
    if any(len(p.encode()) > 255 for p in parts):
        raise Refused(f"path {shown} has a part longer than 255 bytes")
    return "/".join(parts)

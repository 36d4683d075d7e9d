"""What kind of content a disk file holds: its mime type, and whether it is text we can show.

Mime types come from the name alone, so a listing and a stat agree without reading the file.
Our table is consulted before `mimetypes`, whose answers depend on the host's /etc/mime.types
(which calls .ts a Qt translation file and .rs an XML format).
"""

from __future__ import annotations

import mimetypes
import os
import stat
from pathlib import Path, PurePosixPath

from acontext_mcp.errors import InvalidInput

OCTET_STREAM = "application/octet-stream"
SNIFF_BYTES = 8192

_TEXT_EXTENSIONS: dict[str, str] = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".mdx": "text/markdown",
    ".txt": "text/plain",
    ".rst": "text/x-rst",
    ".py": "text/x-python",
    ".pyi": "text/x-python",
    ".ts": "text/x-typescript",
    ".tsx": "text/x-typescript",
    ".mts": "text/x-typescript",
    ".js": "text/javascript",
    ".jsx": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".toml": "text/x-toml",
    ".yaml": "text/x-yaml",
    ".yml": "text/x-yaml",
    ".ini": "text/plain",
    ".cfg": "text/plain",
    ".conf": "text/plain",
    ".env": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".html": "text/html",
    ".css": "text/css",
    ".xml": "application/xml",
    ".sql": "text/x-sql",
    ".sh": "text/x-shellscript",
    ".bash": "text/x-shellscript",
    ".zsh": "text/x-shellscript",
    ".rs": "text/x-rust",
    ".go": "text/x-go",
    ".java": "text/x-java",
    ".kt": "text/x-kotlin",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cpp": "text/x-c++",
    ".hpp": "text/x-c++",
    ".rb": "text/x-ruby",
    ".php": "text/x-php",
    ".swift": "text/x-swift",
    ".lua": "text/x-lua",
    ".diff": "text/x-diff",
    ".patch": "text/x-diff",
    ".lock": "text/plain",
}

_TEXT_NAMES = {
    "makefile": "text/x-makefile",
    "dockerfile": "text/x-dockerfile",
    "license": "text/plain",
    "readme": "text/plain",
    ".gitignore": "text/plain",
    ".editorconfig": "text/plain",
}


def guess_mime(name: str) -> str:
    """Mime type for a file name: our text table, then `mimetypes`, then octet-stream."""
    pure = PurePosixPath(name)
    by_name = _TEXT_NAMES.get(pure.name.lower())
    if by_name:
        return by_name
    by_ext = _TEXT_EXTENSIONS.get(pure.suffix.lower())
    if by_ext:
        return by_ext
    guessed, _encoding = mimetypes.guess_type(pure.name, strict=False)
    return guessed or OCTET_STREAM


def looks_binary(data: bytes) -> bool:
    """The same rule as git and ripgrep: a NUL byte near the start means binary."""
    return b"\x00" in data[:SNIFF_BYTES]


def decode_text(data: bytes) -> str | None:
    """The text of `data`, or None when it is binary (NUL near the start, or not UTF-8)."""
    if looks_binary(data):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_regular(real: str | Path, cap: int) -> tuple[bytes | None, int]:
    """(content, size) of a regular file; content is None when the file is over `cap` bytes.

    Opened without following a final symlink and without blocking, so a FIFO planted in a disk
    cannot hang a read; anything but a regular file raises InvalidInput. Reads exactly the
    size fstat reports (plus one byte to notice growth): asking for `cap` bytes would make
    every read allocate a cap-sized buffer, which was 3x slower over a 100 MB tree.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(real, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"{Path(real).name!r} is not a regular file")
        if info.st_size > cap:
            return None, info.st_size
        chunks: list[bytes] = []
        total, want = 0, info.st_size + 1
        while total <= cap:
            asked = min(max(want - total, 1 << 16), cap + 1 - total)
            chunk = os.read(fd, asked)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total == info.st_size and len(chunk) < asked:
                break  # the size fstat gave, and a short read: the end, without one more read
    finally:
        os.close(fd)
    if total > cap:
        return None, total
    return b"".join(chunks), total

"""Large binary message parts as content-addressed files under <home>/blobs.

Rows stay small and greppable; a blob written twice is one file. Files are written before the
transaction that references them: a crash between the two leaves an unreferenced file, never a
row pointing at nothing.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput, NotFound, TooLarge
from acontext_mcp.fsio import replace_file

_MEDIA = ("image", "audio", "file")


def blob_path(settings: Settings, sha256: str) -> Path:
    return settings.blobs_dir / sha256[:2] / sha256


def write_blob(settings: Settings, data: bytes) -> str:
    """Store bytes once; return their sha256."""
    digest = hashlib.sha256(data).hexdigest()
    target = blob_path(settings, digest)
    if target.exists() and target.stat().st_size == len(data):
        return digest
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    replace_file(target, data, prefix=".tmp-")
    return digest


def read_blob(settings: Settings, sha256: str) -> bytes:
    path = blob_path(settings, sha256)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"blob {sha256} is missing from {settings.blobs_dir}") from exc


def _sources(parts: list[Any]) -> list[dict[str, Any]]:
    """Every media source in a part list, including those nested in tool results."""
    found: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("type") in _MEDIA and isinstance(part.get("source"), dict):
            found.append(part["source"])
        elif part.get("type") == "tool-result" and isinstance(part.get("content"), list):
            found.extend(_sources(part["content"]))
    return found


def blob_refs(parts: list[Any]) -> set[str]:
    """The sha256 of every blob a stored part list references (forget collects garbage by it)."""
    return {
        s["blob"]
        for s in _sources(parts)
        if s.get("kind") == "blob" and isinstance(s.get("blob"), str)
    }


def externalize(
    conn: sqlite3.Connection, settings: Settings, parts: list[Any]
) -> tuple[list[Any], int]:
    """Return (parts with large base64 data swapped for blob refs, bytes moved out).

    Must run inside the caller's transaction so the blob rows commit with the message.
    """
    moved = 0
    if not any(s.get("kind") == "base64" for s in _sources(parts)):
        return parts, 0  # nothing to move (most turns): no copy needed
    parts = copy.deepcopy(parts)
    for source in _sources(parts):
        if source.get("kind") != "base64" or not isinstance(source.get("data"), str):
            continue
        encoded = source["data"]
        decoded_size = len(encoded) * 3 // 4
        if decoded_size <= settings.blob_threshold:
            continue
        if decoded_size > settings.max_artifact_bytes:
            raise TooLarge(
                f"a {source.get('media_type') or 'binary'} part is about "
                f"{decoded_size / 1e6:.1f} MB; one image or document may be at most "
                f"{settings.max_artifact_bytes / 1e6:.1f} MB (ACONTEXT_MAX_ARTIFACT_BYTES)"
            )
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(
                "a base64 media part is not valid base64; send the bytes base64-encoded "
                "without line breaks or a data: prefix"
            ) from exc
        digest = write_blob(settings, raw)
        conn.execute(
            "INSERT INTO blobs (sha256, size, media_type, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(sha256) DO NOTHING",
            (digest, len(raw), source.get("media_type"), time.time()),
        )
        del source["data"]
        source.update(kind="blob", blob=digest, size=len(raw))
        moved += len(raw)
    return parts, moved


def internalize(settings: Settings, parts: list[Any], *, inline: bool) -> list[Any]:
    """Swap blob refs back for data. inline=False gives `acontext-blob:` URLs instead,
    which keeps large images out of a model's context."""
    parts = copy.deepcopy(parts)
    for source in _sources(parts):
        if source.get("kind") != "blob":
            continue
        digest = source.pop("blob")
        size = source.pop("size", None)
        if inline:
            source.update(
                kind="base64", data=base64.b64encode(read_blob(settings, digest)).decode()
            )
        else:
            source.update(kind="url", url=f"acontext-blob:sha256:{digest}")
            if size is not None:
                source["size"] = size
    return parts

"""The Disks page: the agents' artifact disks, browsed folder by folder and read.

Text files show escaped in a <pre> (Markdown rendered safely on request); binary files show
their size and type, never rendered, and download as `application/octet-stream` attachments.
Reads go through disk/files.py (confined to the disk's folder, links included); nothing here
writes: a disk whose folder was made by hand is listed but must be indexed from the shell.
"""

from __future__ import annotations

import bisect
import os
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.config import Settings
from acontext_mcp.disk import files
from acontext_mcp.disk.confine import DEFAULT_DISK, check_disk_name
from acontext_mcp.disk.content import decode_text, guess_mime
from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.store.disks import disk_id, disk_rows
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.render import render

PAGE = 200  # entries per folder page
SHOWN_BYTES = 512 * 1024  # text shown inline; the rest is a download away


def href(disk: str, path: str = "/") -> str:
    return "/disks/" + quote(disk, safe="") + quote(path if path.startswith("/") else "/" + path)


def index(request: Request) -> Response:
    settings = settings_of(request)
    with read_snapshot(settings) as conn:
        rows = {row["name"]: row["created_at"] for row in disk_rows(conn)}
    on_disk: set[str] = set()
    if settings.disks_dir.is_dir():
        on_disk = {e.name for e in os.scandir(settings.disks_dir) if e.is_dir()}
    names = sorted({*rows, *on_disk, DEFAULT_DISK})
    disks = [
        {"name": n, "href": href(n), "created_at": rows.get(n), "indexed": n in rows} for n in names
    ]
    return render(request, "disks.html", title="Disks", disks=disks)


def browse(request: Request) -> Response:
    settings = settings_of(request)
    disk = request.path_params["disk"]
    path = "/" + request.path_params.get("path", "")
    try:
        check_disk_name(disk)
    except InvalidInput as exc:
        raise NotFound(f"no disk named {disk!r}: pick one from the Disks page") from exc
    with read_snapshot(settings) as conn:
        if disk_id(conn, disk) is None:
            return _unindexed(request, settings, disk)
        if path.endswith("/"):
            return _folder(request, files.list_dir(conn, settings, disk, path), disk)
        data = files.read_bytes(conn, settings, disk, path)
    return _file(request, disk, path, data)


def _unindexed(request: Request, settings: Settings, disk: str) -> Response:
    """A disk without its row: nothing written yet ("default"), or a folder made by hand."""
    if disk != DEFAULT_DISK and not (settings.disks_dir / disk).is_dir():
        raise NotFound(f"no disk named {disk!r}: pick one from the Disks page")
    return render(
        request,
        "disk_folder.html",
        title=disk,
        disk=disk,
        crumbs=_crumbs(disk, "/"),
        entries=[],
        unindexed=True,
        next_url=None,
        first_url=None,
    )


def _crumbs(disk: str, path: str) -> list[tuple[str, str]]:
    crumbs = [(disk, href(disk))]
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        tail = (
            "/"
            + "/".join(parts[: i + 1])
            + ("/" if i < len(parts) - 1 or path.endswith("/") else "")
        )
        crumbs.append((part, href(disk, tail)))
    return crumbs


def _folder(request: Request, listing: dict[str, Any], disk: str) -> Response:
    folder = listing["path"]
    entries = [{"name": d, "dir": True, "size": None, "mime": "folder"} for d in listing["dirs"]]
    entries += [
        {"name": f["name"], "dir": False, "size": f["size"], "mime": f["mime"]}
        for f in listing["files"]
    ]
    names = [e["name"] for e in entries]
    start = request.query_params.get("from")
    first = bisect.bisect_right(names, start) if start else 0
    shown = entries[first : first + PAGE]
    for entry in shown:
        entry["href"] = href(disk, folder + entry["name"])
    more = first + PAGE < len(entries)
    next_url = f"{request.url.path}?from={quote(shown[-1]['name'])}" if more and shown else None
    return render(
        request,
        "disk_folder.html",
        title=f"{disk}:{folder}",
        disk=disk,
        crumbs=_crumbs(disk, folder),
        entries=shown,
        count=len(entries),
        unindexed=False,
        next_url=next_url,
        first_url=request.url.path if start else None,
    )


def _file(request: Request, disk: str, path: str, data: bytes) -> Response:
    name = path.rsplit("/", 1)[-1]
    mime = guess_mime(name)
    if request.query_params.get("download"):
        return Response(
            data,
            media_type="application/octet-stream",
            headers={
                "content-disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
                "content-security-policy": "sandbox; default-src 'none'",
            },
        )
    text = decode_text(data[:SHOWN_BYTES] if len(data) > SHOWN_BYTES else data)
    if text is None and len(data) > SHOWN_BYTES:  # cut inside a character: trim to whole ones
        text = data[:SHOWN_BYTES].decode("utf-8", "ignore") if decode_text(data[:4096]) else None
    markdown = mime == "text/markdown" and request.query_params.get("view") != "source"
    return render(
        request,
        "disk_file.html",
        title=f"{disk}:{path}",
        disk=disk,
        path=path,
        crumbs=_crumbs(disk, path),
        size=len(data),
        mime=mime,
        text=text,
        cut=text is not None and len(data) > SHOWN_BYTES,
        markdown=markdown,
        is_markdown=mime == "text/markdown",
        download=href(disk, path) + "?download=1",
        source=href(disk, path) + "?view=source",
        rendered=href(disk, path),
    )


routes: list[BaseRoute] = [
    Route("/disks", index, name="disks"),
    Route("/disks/{disk}", browse),
    Route("/disks/{disk}/{path:path}", browse, name="disk_path"),
]

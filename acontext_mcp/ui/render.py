"""Templates and Markdown: everything stored is untrusted, so everything is escaped.

Jinja2 autoescapes every template. Markdown from skills and messages goes through
markdown-it-py with raw HTML off (tags show as text) and links limited to http(s), mailto
and relative targets: `javascript:`, `data:`, `vbscript:` and the like stay plain text.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).resolve().parent / "templates"
SAFE_SCHEMES = ("http", "https", "mailto")

# (path, label): the navigation bar, in order; a page is "active" when the URL starts with it.
NAV = (
    ("/", "Overview"),
    ("/sessions", "Sessions"),
    ("/tasks", "Tasks"),
    ("/skills", "Skills"),
    ("/learning", "Learning"),
    ("/disks", "Disks"),
)


def safe_link(url: str) -> bool:
    """http(s)/mailto, or relative (no scheme at all); what browsers ignore before the scheme
    (spaces, control characters) cannot smuggle one in, since those are refused too."""
    text = url.strip()
    if any(ord(c) < 0x21 or c == "\\" for c in text):
        return False
    head = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" not in head:
        return True  # relative: path, query or fragment
    return head.split(":", 1)[0].lower() in SAFE_SCHEMES


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.validateLink = safe_link  # type: ignore[method-assign]
    return md


def markdown(text: str | None) -> Markup:
    """Stored Markdown as safe HTML (no raw HTML, no script links)."""
    return Markup(_markdown().render(text or ""))


def when(ts: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored epoch time in local time, as people read it."""
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts).strftime(fmt)


def filesize(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["when"] = when
    env.filters["filesize"] = filesize
    return env


def query_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters replaced (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def render(request: Request, name: str, *, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render `templates/<name>` with the request, the nav and the CSRF token for forms."""
    path = request.url.path
    active = next((p for p, _ in NAV[1:] if path == p or path.startswith(p + "/")), "/")
    html = (
        environment()
        .get_template(name)
        .render(
            request=request,
            nav=NAV,
            active=active,
            csrf=request.app.state.csrf,
            query_with=lambda **c: query_with(request, **c),
            **ctx,
        )
    )
    return HTMLResponse(html, status_code=status)

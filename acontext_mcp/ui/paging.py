"""Keyset pagination for every list page: fast at any depth, stable URLs.

OFFSET pagination reads and drops every row before the page, so page 20,000 of a million
messages costs a million rows. A keyset page instead starts at a key: `?before=<cursor>`
shows the rows older than (below) the cursor, `?after=<cursor>` the rows newer than it, and no
cursor shows the newest. Lists are shown newest first (descending key).

Contract with a store query:
  - called with `keys.before` / `keys.after` (a tuple of key values, or None) and
    `keys.fetch` (= size + 1: the extra row tells whether there is another page);
  - with `after` set, it returns rows in ascending key order (nearest first), otherwise in
    descending order. `Keyset.page` turns either into a descending page with its links.
`store.ui_queries.keyset_clause(columns, keys.before, keys.after)` writes the WHERE and ORDER BY
of such a query. Cursors are opaque (base64url JSON, store/pages.py), so a URL never depends on
their shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.requests import Request

from acontext_mcp.errors import InvalidInput
from acontext_mcp.store.pages import decode_cursor, encode_cursor

T = TypeVar("T")
Key = tuple[Any, ...]

DEFAULT_SIZE = 50
MAX_SIZE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows (newest first) and the URLs of its neighbours (None at the ends)."""

    items: list[T]
    newer_url: str | None = None
    older_url: str | None = None
    newest_url: str | None = None
    size: int = DEFAULT_SIZE
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Keyset:
    """What a list request asks for: a page size and at most one of before/after."""

    kind: str
    size: int
    before: Key | None = None
    after: Key | None = None

    @property
    def fetch(self) -> int:
        return self.size + 1

    @classmethod
    def from_request(
        cls, request: Request, kind: str, *, default: int = DEFAULT_SIZE, maximum: int = MAX_SIZE
    ) -> Keyset:
        """Read `?before=`, `?after=` and `?size=`; a bad value raises InvalidInput."""
        q = request.query_params
        size = default
        if q.get("size"):
            try:
                size = int(q["size"])
            except ValueError as exc:
                raise InvalidInput(f"size must be a whole number (got {q['size']!r})") from exc
            if size < 1:
                raise InvalidInput(f"size must be at least 1 (got {size})")
            size = min(size, maximum)
        if q.get("before") and q.get("after"):
            raise InvalidInput("give ?before= or ?after=, not both")
        return cls(
            kind=kind,
            size=size,
            before=_key(q.get("before"), kind),
            after=_key(q.get("after"), kind),
        )

    def cursor(self, key: Key) -> str:
        return encode_cursor({"k": self.kind, "v": list(key)})

    def page(self, request: Request, rows: Sequence[T], key_of: Callable[[T], Key]) -> Page[T]:
        """The page from `size + 1` rows fetched per the contract above, with its links."""
        more = len(rows) > self.size
        items = list(rows[: self.size])
        if self.after is not None:
            items.reverse()  # fetched ascending from the cursor: show newest first
        older = newer = None
        if items:
            has_older = more if self.after is None else True
            has_newer = (self.before is not None) or (self.after is not None and more)
            if has_older:
                older = _url(request, before=self.cursor(key_of(items[-1])))
            if has_newer:
                newer = _url(request, after=self.cursor(key_of(items[0])))
        newest = _url(request) if (self.before is not None or self.after is not None) else None
        return Page(items, newer_url=newer, older_url=older, newest_url=newest, size=self.size)


def _key(cursor: str | None, kind: str) -> Key | None:
    value = decode_cursor(cursor, kind=kind)
    if value is None:
        return None
    key = value.get("v")
    if not isinstance(key, list) or not key:
        raise InvalidInput(f"cursor is not valid: follow the page links of {kind}")
    return tuple(key)


def _url(request: Request, **cursor: str) -> str:
    """This URL with its cursor replaced (filters and size kept)."""
    from acontext_mcp.ui.render import query_with

    return query_with(request, before=cursor.get("before"), after=cursor.get("after"))

"""One module per dashboard page; ui/app.py mounts each one's `routes` (see `PAGES` there).

A page module, in short:

    from starlette.routing import BaseRoute, Route
    from acontext_mcp.store.ui_queries import read_snapshot
    from acontext_mcp.ui.app_state import settings_of
    from acontext_mcp.ui.paging import Keyset
    from acontext_mcp.ui.render import render

    def index(request):                      # sync: runs in the thread pool
        keys = Keyset.from_request(request, "sessions")
        with read_snapshot(settings_of(request)) as conn:   # one short read transaction
            rows = ui_sessions.page(conn, before=keys.before, after=keys.after, limit=keys.fetch)
        return render(request, "sessions/index.html", page=keys.page(request, rows, key_of))

    routes: list[BaseRoute] = [Route("/sessions", index), Route("/sessions/{id}", show)]

- SQL lives in `store/ui_<page>.py`; templates in `templates/<page>/`, extending "base.html"
  (block `content`); `{% import "_macros.html" as ui %}` gives `ui.pager(page)` and
  `ui.post_form(...)` (carries the CSRF field).
- GET never changes state. A POST handler may write (open its own connection through the
  domain function); the guard has already checked the cookie, Origin and CSRF token.
- Errors: raise InvalidInput (400) or NotFound (404) with a message saying what to do.
- Stored text is untrusted: never `|safe` it; Markdown goes through the `markdown` filter.
- No inline script or style (the CSP forbids them); `<details>` collapses without JS.
"""

"""The local web dashboard (`acontext-mcp ui`): server-rendered pages over the data home.

`app.build_app` assembles a Starlette app from the page modules in `pages/` (each exposes
`routes`), behind `security.Guard` (token cookie, Host/Origin checks, CSRF). Pages read through
short read transactions (`store.ui_queries.read_snapshot`) while hooks and the worker write.
"""

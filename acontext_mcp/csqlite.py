"""`sqlite3` for the hooks' answer path: the C module, without the package around it.

`import sqlite3` runs sqlite3/dbapi2.py, which imports datetime to register date adapters we
never use: ~1.5 ms of a prompt hook that answers while the user waits
(bench/bench_prompt_hook.py). The C module `_sqlite3` is what the package re-exports
(connect, Row, the errors), so the modules on that path (store/peek.py, store/skill_uses.py,
skills/entry_index.py) import it through here. Where it is missing (another Python), it is
the package itself.
"""

from __future__ import annotations

try:
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - CPython builds sqlite3 on top of it
    import sqlite3  # type: ignore[no-redef]

__all__ = ["sqlite3"]

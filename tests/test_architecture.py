"""Import direction and the lean hot path, checked with the ast and a subprocess."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PACKAGE = REPO / "acontext_mcp"

# package -> packages it must never import
FORBIDDEN = {
    "formats": {"store", "disk", "skills", "server", "cli", "mcp", "pydantic"},
    "store": {"server", "cli", "mcp", "pydantic", "disk", "skills"},
    "disk": {"server", "cli", "mcp", "pydantic", "skills", "formats"},
    "skills": {"server", "cli", "mcp", "pydantic", "store"},
    # capture runs inside agent hooks: standard library and our own stdlib-only modules
    "capture": {"server", "cli", "mcp", "pydantic", "asyncio", "openai", "anthropic", "git"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if parts[0] == "acontext_mcp" and len(parts) > 1 else parts[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_domain_packages_import_only_downstream(package: str) -> None:
    bad = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in _imports(path):
            if _top(name) in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def test_nothing_imports_the_adapters() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        adapter = path.parent == PACKAGE / "cli"  # the command line's modules use each other
        if adapter or path.name in ("server.py", "entry.py", "__main__.py"):
            continue
        names = {_top(n) for n in _imports(path) if n.startswith("acontext_mcp.")}
        assert not names & {"server", "cli"}, path


def test_storing_a_turn_needs_neither_mcp_nor_pydantic(tmp_path: Path) -> None:
    """The capture path (hooks, later) stores turns with the standard library only."""
    code = (
        "import sys\n"
        "from acontext_mcp.config import Settings\n"
        "from acontext_mcp.store.db import open_db\n"
        "from acontext_mcp.store.turns import store_turn\n"
        f"s = Settings(home=__import__('pathlib').Path({str(tmp_path)!r}), "
        f"skills_dir=__import__('pathlib').Path({str(tmp_path)!r}))\n"
        "c = open_db(s)\n"
        "store_turn(c, s, [{'role': 'user', 'content': 'hi'}])\n"
        "heavy = {'mcp', 'pydantic', 'asyncio', 'openai', 'anthropic', 'git', 'aiosqlite'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


# --- The store owns the SQL -----------------------------------------------------------------

# Files outside store/ that may run SQL, and why. Nothing else may.
SQL_ALLOWED = {
    # The skills search index is its own database file (skills-index.db), not the store.
    "acontext_mcp/skills/index.py": "own database file skills-index.db, not the store",
}
SQL_START = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|REPLACE|WITH|PRAGMA)\b")
SQL_CALLS = {"execute", "executemany", "executescript"}


def _store_tables() -> set[str]:
    """Every table the store's migrations create."""
    source = (PACKAGE / "store" / "migrations.py").read_text()
    found = re.findall(r"CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", source)
    assert len(found) >= 10, found  # the pattern still finds the schema
    return set(found)


def _literal(node: ast.AST) -> str | None:
    """The text of a string constant or f-string (its constant parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def sql_outside_store(root: Path, tables: set[str]) -> list[str]:
    """`file:line: text` for each SQL statement outside store/: a string passed to
    .execute/.executemany/.executescript, or a literal starting like SQL that names a table."""
    names = re.compile(r"\b(" + "|".join(sorted(tables)) + r")\b")

    def is_sql(text: str) -> bool:
        return bool(SQL_START.match(text) and names.search(text))

    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).as_posix()
        if rel.startswith("acontext_mcp/store/") or rel in SQL_ALLOWED:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        hits: dict[int, str] = {}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
                and node.args
                and (text := _literal(node.args[0])) is not None
            ):
                hits[node.args[0].lineno] = text
            elif (text := _literal(node)) is not None and is_sql(text):
                hits.setdefault(node.lineno, text)
        bad += [f"{rel}:{line}: {text.strip()[:60]}" for line, text in sorted(hits.items())]
    return bad


def test_the_store_owns_every_sql_statement() -> None:
    bad = sql_outside_store(PACKAGE, _store_tables())
    assert not bad, "SQL outside acontext_mcp/store/ (move it into a store function):\n" + (
        "\n".join(bad)
    )


def test_the_sql_check_names_file_and_line(tmp_path: Path) -> None:
    """The check is not vacuous: a stray statement in any form is found, with its line."""
    root = tmp_path / "acontext_mcp"
    (root / "store").mkdir(parents=True)
    (root / "store" / "ok.py").write_text('def f(c):\n    c.execute("SELECT * FROM jobs")\n')
    (root / "worker").mkdir()
    (root / "worker" / "bad.py").write_text(
        "def f(c, x):\n"
        '    c.execute("ROLLBACK")\n'
        '    sql = f"SELECT id FROM tasks WHERE id = {x}"\n'
        "    return c.execute(sql)\n"
        '"""Select a task: plain prose about tasks is not SQL."""\n'
    )
    assert sql_outside_store(root, {"jobs", "tasks"}) == [
        "acontext_mcp/worker/bad.py:2: ROLLBACK",
        "acontext_mcp/worker/bad.py:3: SELECT id FROM tasks WHERE id =",
    ]


def test_the_jobs_table_has_one_writer() -> None:
    """Enqueue, claim, complete, defer and deletes all go through store/jobs.py."""
    writes = re.compile(r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+jobs\b", re.I)
    bad: dict[str, str] = {}  # file:line -> statement (an f-string's parts share its line)
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).as_posix() in ("store/jobs.py", "store/migrations.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (text := _literal(node)) is not None and writes.search(text):
                bad.setdefault(f"{path.relative_to(REPO)}:{node.lineno}", text.strip()[:60])
    assert not bad, "write the jobs table through acontext_mcp/store/jobs.py:\n" + "\n".join(
        f"{where}: {text}" for where, text in bad.items()
    )

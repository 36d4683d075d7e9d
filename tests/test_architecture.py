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
    # edits and token counts over messages handed in: pure, so the store can call them
    "context": {"store", "disk", "skills", "server", "cli", "mcp", "pydantic"},
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
        "heavy = {'mcp', 'pydantic', 'asyncio', 'openai', 'anthropic', 'git', 'aiosqlite',\n"
        "         'tiktoken'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


# --- One layer order, no cycles ---------------------------------------------------------------

# The allowed layer order, written once, lowest first. A module may import only nodes on a
# LOWER line (or its own node). A node is a package or a top-level module (`config`); two
# stdlib-only leaves of capture/ are their own nodes because the store redacts and checks the
# capture switches before it writes a turn. `app` holds the use cases (learn a session, queue
# learning, flush, the job-handler registry) and hands the worker its handlers. Hooks are the
# hot path: they sit high, but test_storing_a_turn_needs_neither_mcp_nor_pydantic and
# test_hooks_stay_off_the_heavy_layers keep them standard-library only.
LAYERS = """
errors text fsio job_kinds progress stdio_guard umask wirejson csqlite stat_rows
private
config
user_config scrub hooklog
formats privacy
context
logsetup
store
disk
skills
capture
llm
worker
observe
learn
app
hooks setup tool_args
server ui
cli
entry
__main__
"""
LEVEL = {node: i for i, line in enumerate(LAYERS.strip().splitlines()) for node in line.split()}
MODULE_NAME = re.compile(r"^acontext_mcp(\.\w+)+$")


def _node(module: str, nodes: dict[str, int]) -> str | None:
    """The layer node of a dotted module name under acontext_mcp (longest listed prefix)."""
    parts = module.split(".")[1:]
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in nodes:
            return ".".join(parts[:end])
    return None


def _is_module(root: Path, dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (root / rel).is_dir() or (root / rel).with_suffix(".py").is_file()


def module_imports(root: Path, path: Path) -> set[str]:
    """Every acontext_mcp module `path` imports: at module or function level, relative, or by
    string (a constant like "acontext_mcp.learn.pipeline", as importlib would be given)."""
    package = root.name
    own = list(path.relative_to(root.parent).with_suffix("").parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(own[: len(own) - node.level] + ([base] if base else []))
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if _is_module(root, child) else base)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and MODULE_NAME.match(node.value.replace(package, "acontext_mcp", 1))
        ):
            found.add(node.value)
    return {m.replace(package, "acontext_mcp", 1) for m in found if m.split(".")[0] == package}


def package_graph(root: Path, nodes: dict[str, int]) -> dict[tuple[str, str], list[str]]:
    """(importer node, imported node) -> the files and modules that make the edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        dotted = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        source = _node(dotted.replace(root.name, "acontext_mcp", 1), nodes)
        if source is None:
            if path.parent != root or path.name != "__init__.py":
                edges.setdefault(("?", dotted), []).append("not in LAYERS")
            continue
        for module in sorted(module_imports(root, path)):
            target = _node(module, nodes)
            if target is None:
                continue  # the package itself (acontext_mcp/__init__.py)
            if target != source:
                rel = path.relative_to(root.parent).as_posix()
                edges.setdefault((source, target), []).append(f"{rel} imports {module}")
    return edges


def find_cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    """One cycle of the node graph as [a, b, ..., a], or None."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*stack, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def layer_violations(edges: dict[tuple[str, str], list[str]], nodes: dict[str, int]) -> list[str]:
    return [
        f"{a} -> {b}: {why[0]}"
        for (a, b), why in sorted(edges.items())
        if a == "?" or nodes[a] <= nodes[b]
    ]


def test_every_module_has_a_layer() -> None:
    edges = package_graph(PACKAGE, LEVEL)
    assert not [b for a, b in edges if a == "?"], "add the new module to LAYERS"
    listed = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    missing = {n for n in LEVEL if n.split(".")[0] not in listed}
    assert not missing, f"LAYERS names nodes that do not exist: {sorted(missing)}"


def test_no_package_cycles() -> None:
    edges = package_graph(PACKAGE, LEVEL)
    cycle = find_cycle(edges)
    steps = list(zip(cycle or [], (cycle or [])[1:], strict=False))
    assert cycle is None, (
        "import cycle "
        + " -> ".join(cycle)
        + ":\n"
        + "\n".join(f"{a} -> {b}: {edges[(a, b)][0]}" for a, b in steps)
    )


def test_every_import_goes_down_the_layer_order() -> None:
    bad = layer_violations(package_graph(PACKAGE, LEVEL), LEVEL)
    assert not bad, "imports against the layer order (see LAYERS):\n" + "\n".join(bad)


def test_the_readme_shows_the_same_layer_order() -> None:
    text = (REPO / "README.md").read_text()
    block = re.search(r"Imports go down one layer order.*?```\n(.*?)```", text, re.S)
    assert block, "README's Layout section shows the layer order"
    shown = [line.split() for line in block.group(1).replace("\n", " ").split("→")]
    assert shown == [line.split() for line in LAYERS.strip().splitlines()]


def test_the_graph_sees_function_level_relative_and_string_imports(tmp_path: Path) -> None:
    """The checks are not vacuous: every form of import makes an edge, cycles are found."""
    root = tmp_path / "acontext_mcp"
    for name in ("low", "high", "top"):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
    (root / "low" / "a.py").write_text(
        "import importlib\n\ndef f():\n    return importlib.import_module('acontext_mcp.high.b')\n"
    )
    (root / "high" / "b.py").write_text("def g():\n    from acontext_mcp.top import c\n")
    (root / "top" / "c.py").write_text("from ..low import a\n")
    nodes = {"low": 0, "high": 1, "top": 2}
    edges = package_graph(root, nodes)
    assert set(edges) == {("low", "high"), ("high", "top"), ("top", "low")}
    assert find_cycle(edges) == ["high", "top", "low", "high"]
    assert layer_violations(edges, nodes) == [
        "high -> top: acontext_mcp/high/b.py imports acontext_mcp.top.c",
        "low -> high: acontext_mcp/low/a.py imports acontext_mcp.high.b",
    ]
    (root / "low" / "a.py").write_text("X = 1\n")
    assert find_cycle(package_graph(root, nodes)) is None


def test_hooks_stay_off_the_heavy_layers() -> None:
    """The hot path may use the worker's triggers but never the use cases or the LLM side,
    though hooks sit above them in LAYERS."""
    heavy = {"app", "observe", "learn", "llm", "server", "cli", "setup"}
    bad = [
        f"{a} -> {b}: {why[0]}"
        for (a, b), why in sorted(package_graph(PACKAGE, LEVEL).items())
        if a == "hooks" and b in heavy
    ]
    assert not bad, "\n".join(bad)


# --- The store owns the SQL -----------------------------------------------------------------

# Files outside store/ that may run SQL, and why. Nothing else may.
SQL_ALLOWED = {
    # The skills search index is its own database file (skills-index.db), not the store.
    "acontext_mcp/skills/index.py": "own database file skills-index.db, not the store",
    "acontext_mcp/skills/entry_index.py": "the learned entries, in skills-index.db too",
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


def main(argv: list[str]) -> int:
    """`python tests/test_architecture.py [PACKAGE_DIR]`: print the package graph (one line per
    edge, lowest layer first), then any cycle and any edge against the layer order. Point it at
    another checkout's acontext_mcp/ to compare (modules missing from LAYERS are named)."""
    root = Path(argv[0]).resolve() if argv else PACKAGE
    edges = package_graph(root, LEVEL)
    for src, dst in sorted(edges, key=lambda e: (LEVEL.get(e[0], -1), e)):
        print(f"{src} -> {dst}")
    cycle = find_cycle(edges)
    violations = layer_violations(edges, LEVEL)
    print(f"cycle: {' -> '.join(cycle) if cycle else 'none'}")
    print(f"against the layer order: {len(violations)}")
    for line in violations:
        print(f"  {line}")
    return 1 if cycle or violations else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

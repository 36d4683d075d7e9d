"""Import direction and the lean hot path, checked with the ast and a subprocess."""

from __future__ import annotations

import ast
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

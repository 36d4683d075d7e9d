"""Small shared things exist once (issue 11 item 7): the SKILL.md name, the job kind names, the
text clipper and the atomic file writer. Each scan fails when a second copy appears."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from acontext_mcp import job_kinds
from acontext_mcp.text import clip, one_line

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "acontext_mcp"


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(REPO).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """(enclosing function or "<module>", node) for every node."""

    def walk(node: ast.AST, where: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            yield where, child
            inner = (
                child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else where
            )
            yield from walk(child, inner)

    yield from walk(tree, "<module>")


def _string_constants(value: str) -> list[str]:
    return [
        f"{rel}:{node.lineno}"
        for rel, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == value
    ]


def test_skill_md_is_named_once() -> None:
    where = _string_constants("SKILL.md")
    assert [w.split(":")[0] for w in where] == ["acontext_mcp/skills/__init__.py"], where


# worker/loop.py names pipeline's handler functions (which share the kinds' names) for its
# lazy import; issue 11 item 3 replaces that with handlers handed to the worker.
_LAZY_HANDLER_NAMES = "acontext_mcp/worker/loop.py"


def test_job_kinds_are_named_once() -> None:
    for kind in job_kinds.ALL:
        where = [w for w in _string_constants(kind) if not w.startswith(_LAZY_HANDLER_NAMES)]
        assert [w.split(":")[0] for w in where] == ["acontext_mcp/job_kinds.py"], (kind, where)


def _is_cut(node: ast.AST) -> bool:
    """`text[:n] + "…"` (or "...", " […"): a hand-made clipper."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return False
    sides = (node.left, node.right)
    cut = any(isinstance(s, ast.Subscript) and isinstance(s.slice, ast.Slice) for s in sides)
    marks = [s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)]
    return cut and any(m.lstrip(" \n[").startswith(("…", "...")) for m in marks)


def test_scan_sees_a_hand_made_clipper() -> None:
    tree = ast.parse('def f(t):\n    return t[:9] + "…" if len(t) > 10 else t\n')
    assert [n for n in ast.walk(tree) if _is_cut(n)]
    assert not [n for n in ast.walk(ast.parse("a = b[:3] + c")) if _is_cut(n)]


def test_one_text_clipper() -> None:
    found = [
        f"{rel}:{node.lineno}"
        for rel, tree in _modules()
        if rel != "acontext_mcp/text.py"
        for node in ast.walk(tree)
        if _is_cut(node)
    ]
    assert not found, f"clip with acontext_mcp/text.py instead: {found}"


def test_clip_with_a_tail_says_how_much_was_cut() -> None:
    assert clip("  abcdefghij  ", 4, tail=" […{n} more chars]") == "abcd […6 more chars]"
    assert clip("abc", 4, tail="...") == "abc"
    assert clip("abcdefghij", 4) == "abc…"
    assert one_line("a\n b   c d", 6) == "a b c…"


# Functions that rename a temp file over another themselves, and why.
_OWN_RENAME = {
    "write_file": "disk/files.py renames inside the transaction that records the file",
    "_export_to_file": "an export streams rows into its temp file; no bytes in memory",
}


def test_one_atomic_file_writer() -> None:
    found = []
    for rel, tree in _modules():
        if rel == "acontext_mcp/fsio.py":
            continue
        for where, node in _functions(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "replace"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "os"
                and where not in _OWN_RENAME
            ):
                found.append(f"{rel}:{node.lineno} ({where})")
    assert not found, f"write through acontext_mcp/fsio.replace_file instead: {found}"

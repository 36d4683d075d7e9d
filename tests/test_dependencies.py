"""Declared runtime dependencies and what acontext_mcp imports agree, both ways.

A dependency nobody imports is weight every install pays for (and a promise the code does not
keep); an import nobody declares works only while some other package happens to pull it in.
Imports are read with the ast, function-level (lazy) ones included.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "acontext_mcp"


def _normal(name: str) -> str:
    """PEP 503 form, so `GitPython` in metadata matches `gitpython` in pyproject."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """[project].dependencies and the optional extras the code uses (all but `test`)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    deps = [*project["dependencies"], *(d for k, v in extras.items() if k != "test" for d in v)]
    return {_normal(re.match(r"[A-Za-z0-9._-]+", dep)[0]) for dep in deps}


def imported() -> dict[str, str]:
    """Top-level names of absolute imports in acontext_mcp -> first file importing each."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def import_names() -> dict[str, set[str]]:
    """Distribution (normalized) -> the top-level names it installs."""
    out: dict[str, set[str]] = {}
    for top, dists in packages_distributions().items():
        for dist in dists:
            out.setdefault(_normal(dist), set()).add(top)
    return out


def test_every_declared_dependency_is_imported() -> None:
    provides, used = import_names(), imported()
    missing = sorted(declared() - provides.keys())
    assert not missing, f"declared but not installed: {missing}; run pip install -e '.[test]'"
    unused = {d: sorted(provides[d]) for d in sorted(declared()) if not provides[d] & used.keys()}
    assert not unused, (
        f"pyproject.toml declares {unused} (distribution: import names) but acontext_mcp never "
        "imports them: use them or remove them from [project].dependencies"
    )


def test_every_third_party_import_is_declared() -> None:
    provides, wanted = import_names(), declared()
    covered = {top for dist in wanted for top in provides.get(dist, ())}
    # _sha2: the standard library's builtin sha256 from Python 3.12 (3.11 names it _sha256);
    # skills/sync.py tries both, so it is stdlib whichever version runs this.
    local = {"acontext_mcp", "__future__", "_sha2", *sys.stdlib_module_names}
    undeclared = {
        top: where for top, where in sorted(imported().items()) if top not in local | covered
    }
    assert not undeclared, (
        f"acontext_mcp imports {undeclared} (name: first file) but pyproject.toml does not "
        "declare the distribution: add it to [project].dependencies"
    )

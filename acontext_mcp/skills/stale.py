"""Stale references: files, make/npm/just targets a project runbook names that its project no
longer has.

A runbook (`<skill>/projects/<slug>.md`) names its project in its header line (`Path:
`/abs/dir``, written by learn/entries.py) or, failing that, by its slug matching a captured
session's project directory. Only code spans are read (the runbook's schema puts every exact
command and path in one), and only what can be checked for sure is flagged:

- a project-relative file path with a directory and a known file extension
  (`scripts/deploy.sh`, `tests/old_test.py::test_x`), never absolute paths, URLs, globs,
  variables, `..`, build output folders, or a span that changes directory (`cd web && ...`);
- `make TARGET` against the project's Makefile, unless it includes other files or builds
  targets from variables or patterns (then nothing is said);
- `npm|pnpm|yarn run SCRIPT` and `npm test` against package.json's scripts;
- `just RECIPE` against the justfile (unless it imports or has modules).

A Makefile, package.json or justfile that is not in the project root says nothing either
(a subproject may hold it), except a project with no Makefile and no file that generates one.
Standard library only; reads the file system, never runs anything.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from acontext_mcp.errors import AcontextError
from acontext_mcp.skills.evidence import parse_line, project_slug

RUNBOOK_DIR = "projects"
MAX_BYTES = 1_000_000  # a runbook larger than this is not read
_HEADER = re.compile(r"^(?:path|project|location|repository)\s*:\s*`?([^`\s]+)`?\s*$", re.I)
_SPAN = re.compile(r"`([^`\n]+)`")
_CHAIN = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
_PATH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$")
_EXTENSIONS = (
    "py sh bash zsh js mjs cjs ts tsx jsx json toml yaml yml md rst txt cfg ini conf rs go rb "
    "java kt c h cc cpp hpp cs php swift sql mk gradle lock xml html css scss vue svelte"
)
FILE_EXTENSIONS = frozenset(_EXTENSIONS.split())
_GENERATED = (
    "node_modules dist build target out coverage .venv venv env .git __pycache__ .tox .next "
    ".cache .pytest_cache .mypy_cache site-packages"
)
GENERATED = frozenset(_GENERATED.split())  # build output: absent until built
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
MAKE_GENERATORS = ("Makefile.in", "Makefile.am", "CMakeLists.txt", "configure", "meson.build")
JUSTFILES = ("justfile", "Justfile", ".justfile", "JUSTFILE")
_MAKE_TARGET = re.compile(r"^([^\s:=#][^:=]*?)\s*::?(?!=)")
_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][A-Za-z0-9_-]*)(?:\s[^:]*)?:(?!=)")
_JUST_ALIAS = re.compile(r"^alias\s+([A-Za-z_][A-Za-z0-9_-]*)\s*:=")


@dataclass(frozen=True)
class StaleRef:
    """One reference the project no longer has: `kind` is path, make, npm or just; `ref` is
    what the runbook names (`scripts/deploy.sh`, `make test-all`); `line` is the runbook line
    (1-based) and `entry` whether that line is a learned entry (which a proposal may remove)."""

    kind: str
    ref: str
    why: str
    line: int
    text: str
    entry: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "why": self.why,
            "line": self.line,
            "entry": self.entry,
        }


@dataclass(frozen=True)
class Runbook:
    """A runbook file, its text and the project it describes (`project` None when unknown)."""

    skill: str
    path: str  # inside the skill: projects/<slug>.md
    project: str | None
    text: str = ""


# --- which project ----------------------------------------------------------------------------


def header_project(text: str) -> str | None:
    """The absolute project directory the runbook's header names, or None."""
    for raw in text.splitlines()[:8]:
        found = _HEADER.match(raw.strip())
        if found and found.group(1).startswith(("/", "~")):
            return str(Path(found.group(1)).expanduser())
    return None


def _runbook_files(skills_dir: Path) -> Iterator[tuple[str, str, str]]:
    """(skill, path inside it, text) of every `<skill>/projects/*.md`, read through
    skills/contained (no link followed, nothing over MAX_BYTES)."""
    from acontext_mcp.skills import contained

    for folder in contained.skill_folders(skills_dir):
        try:
            with os.scandir(folder / RUNBOOK_DIR) as entries:
                names = sorted(
                    e.name
                    for e in entries
                    if e.name.endswith(".md") and e.is_file(follow_symlinks=False)
                )
        except OSError:
            continue  # no projects/ folder (or a link in its place)
        for name in names:
            rel = f"{folder.name}/{RUNBOOK_DIR}/{name}"
            try:
                data = contained.read_bytes(skills_dir, rel, max_bytes=MAX_BYTES)
            except (AcontextError, OSError):
                continue
            yield folder.name, f"{RUNBOOK_DIR}/{name}", data.decode("utf-8", errors="replace")


def runbooks(skills_dir: Path, project_dirs: Iterable[str] = ()) -> list[Runbook]:
    """Every `<skill>/projects/*.md` with its project: the header's, else the one project of
    `project_dirs` (the captured sessions' directories) whose slug is the file's name."""
    by_slug: dict[str, set[str]] = {}
    for found in project_dirs:
        slug = project_slug(found)
        if slug:
            by_slug.setdefault(slug, set()).add(found)
    out = []
    for skill, path, text in _runbook_files(Path(skills_dir)):
        project = header_project(text)
        if project is None:
            candidates = by_slug.get(path.rsplit("/", 1)[-1][: -len(".md")], set())
            project = next(iter(candidates)) if len(candidates) == 1 else None
        out.append(Runbook(skill, path, project, text))
    return out


# --- what a span names ------------------------------------------------------------------------


def _path_ref(token: str) -> str | None:
    """`token` as a project-relative file path, or None when it does not look like one."""
    token = token.strip("\"'(),;")
    token = token.split("::", 1)[0]
    token = re.sub(r":\d+(?::\d+)?$", "", token)  # file:line
    if token.startswith("./"):
        token = token[2:]
    if not _PATH.match(token) or "://" in token:
        return None
    parts = token.split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[0] in GENERATED:
        return None
    stem, dot, ext = parts[-1].rpartition(".")
    if not dot or not stem or ext.lower() not in FILE_EXTENSIONS:
        return None
    return token


def _split(command: str) -> list[str] | None:
    try:
        return shlex.split(command)
    except ValueError:
        return None


def _words(
    args: list[str], stop: tuple[str, ...], takes_value: tuple[str, ...] = ()
) -> list[str] | None:
    """The non-option words of `args`, or None when an option in `stop` makes them
    uncheckable (another directory or file). Options in `takes_value` consume the next word."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in stop or any(len(s) == 2 and arg.startswith(s) for s in stop if s[1] != "-"):
            return None
        if arg in takes_value:
            skip = True
        elif not arg.startswith("-") and not arg.isdigit():
            out.append(arg)
    return out


def _commands(span: str) -> list[list[str]]:
    out = []
    for part in _CHAIN.split(span):
        words = _split(part)
        if words:
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                words = words[1:]  # FOO=1 make x
            if words:
                out.append(words)
    return out


def _targets(words: list[str]) -> tuple[str, list[str]] | None:
    """(kind, names) of one command when it is a target we can check."""
    tool, args = words[0], words[1:]
    if tool in ("make", "gmake"):
        make_stop = ("-C", "-f", "--directory", "--file", "--makefile", "-I")
        names = _words(args, make_stop, ("-o", "-W", "--old-file", "--what-if"))
        if names is None:
            return None
        return "make", [n for n in names if "=" not in n]
    if tool in ("npm", "pnpm", "yarn"):
        stop = ("--prefix", "-C", "--dir", "--filter", "-F", "-w", "--workspace", "--cwd")
        names = _words(args, stop)
        if not names:
            return None
        if names[0] in ("run", "run-script") and len(names) > 1:
            return "npm", [names[1]]
        if names[0] in ("test", "t") and (tool != "npm" or names[0] == "test"):
            return "npm", ["test"]
        return None
    if tool == "just":
        names = _words(args, ("-f", "--justfile", "-d", "--working-directory"))
        names = [n for n in names or [] if "=" not in n]
        return ("just", names[:1]) if names else None
    return None


def references(text: str) -> list[tuple[int, str, str]]:
    """(line number, kind, name) of each checkable reference in the runbook's code spans."""
    out: list[tuple[int, str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if _HEADER.match(line.strip()):
            continue
        for span in _SPAN.findall(line):
            if re.search(r"(^|[\s;&|])(cd|pushd)\s", span) or "$" in span:
                continue  # another directory, or a variable: nothing certain
            for words in _commands(span):
                target = _targets(words)
                if target is not None:
                    kind, names = target
                    out.extend((number, kind, name) for name in names)
                for word in words:
                    path = _path_ref(word)
                    if path is not None:
                        out.append((number, "path", path))
    return out


# --- what the project has ---------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def make_targets(project: Path) -> set[str] | str | None:
    """The Makefile's targets; a string saying why none can be used (no Makefile); None when
    they cannot be known for sure (includes, variable or pattern targets, a generated one)."""
    file = next((project / n for n in MAKEFILES if (project / n).is_file()), None)
    if file is None:
        if any((project / n).exists() for n in MAKE_GENERATORS):
            return None
        return "the project has no Makefile"
    text = _read(file)
    if text is None:
        return None
    found: set[str] = set()
    for line in text.splitlines():
        if re.match(r"^-?s?include\s", line):
            return None
        m = _MAKE_TARGET.match(line)
        if m is None:
            continue
        names = m.group(1).split()
        if any(c in m.group(1) for c in "$%"):
            return None
        found.update(names)
    return found


def npm_scripts(project: Path) -> set[str] | None:
    text = _read(project / "package.json")
    if text is None:
        return None
    try:
        scripts = json.loads(text).get("scripts")
    except (ValueError, AttributeError):
        return None
    return set(scripts) if isinstance(scripts, dict) else set()


def just_recipes(project: Path) -> set[str] | None:
    file = next((project / n for n in JUSTFILES if (project / n).is_file()), None)
    text = _read(file) if file is not None else None
    if text is None:
        return None
    found: set[str] = set()
    for line in text.splitlines():
        if re.match(r"^(import|mod)\s", line):
            return None
        m = _JUST_ALIAS.match(line) or _JUST_RECIPE.match(line)
        if m:
            found.add(m.group(1))
    return found


def stale_refs(text: str, project: Path) -> list[StaleRef]:
    """The references of a runbook `text` its `project` (an existing directory) lacks."""
    lines = text.splitlines()
    known: dict[str, set[str] | str | None] = {}
    lookups = {"make": make_targets, "npm": npm_scripts, "just": just_recipes}
    out: list[StaleRef] = []
    seen: set[tuple[int, str, str]] = set()
    for number, kind, name in references(text):
        if (number, kind, name) in seen:
            continue
        seen.add((number, kind, name))
        if kind == "path":
            if (project / name).exists():
                continue
            ref, why = name, f"{name} does not exist in {project}"
        else:
            if kind not in known:
                known[kind] = lookups[kind](project)
            have = known[kind]
            if have is None:
                continue
            tool = {"make": "make", "npm": "npm run", "just": "just"}[kind]
            ref = f"{tool} {name}" if name != "test" or kind != "npm" else "npm test"
            if isinstance(have, str):
                why = f"{ref}: {have}"
            elif name in have:
                continue
            else:
                where = {"make": "Makefile", "npm": "package.json scripts", "just": "justfile"}
                why = f"{ref}: no {name!r} in the project's {where[kind]}"
        line = lines[number - 1]
        out.append(StaleRef(kind, ref, why, number, line, parse_line(line) is not None))
    return out

"""Registering acontext-mcp with host agents (`install`, `uninstall`) and checking it (`doctor`).

Hosts keep their settings in JSON files the user also edits (and that the host rewrites), so
every change here is a merge: read, change only our entries, write atomically, back up first,
and remember in a manifest under `<home>/installs/` what was added or displaced, so uninstall
can undo exactly that. Stdlib only, except `doctor`'s MCP probe.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp import config
from acontext_mcp.errors import AcontextError

EXECUTABLE = "acontext-mcp"
SERVER_NAME = "acontext"


class SetupError(AcontextError):
    """A settings file cannot be changed safely as asked; nothing was written."""


@dataclass
class Outcome:
    """What an install or uninstall did (or, with dry_run, would do), for printing or --json."""

    action: str
    agent: str
    dry_run: bool
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # files deleted because we created them
    unchanged: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)  # copies taken before writing
    notes: list[str] = field(default_factory=list)
    diff: str = ""
    manifest: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def wrote(self) -> bool:
        return bool(self.created or self.changed or self.removed)

    def render(self) -> str:
        head = f"acontext-mcp {self.action} {self.agent}"
        lines = [head + (" (dry run: nothing written)" if self.dry_run else "")]
        if self.dry_run and self.diff:
            lines += ["", self.diff.rstrip("\n"), ""]
        for verb, paths in (
            ("create", self.created),
            ("change", self.changed),
            ("delete", self.removed),
        ):
            label = f"would {verb}" if self.dry_run else f"{verb}d"
            lines += [f"  {label:<13}{p}" for p in paths]
        lines += [f"  {'unchanged':<13}{p}" for p in self.unchanged]
        if not self.wrote:
            done = "already installed" if self.action == "install" else "nothing of ours is there"
            lines.append(f"  nothing to do: {done}")
        lines += [f"  {'backup':<13}{b}" for b in self.backups]
        if self.manifest and not self.dry_run and self.wrote:
            gone = " (deleted: nothing left to undo)" if self.action == "uninstall" else ""
            lines.append(f"  {'record':<13}{self.manifest}{gone}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def find_executable(explicit: str | None = None) -> str:
    """Absolute path of the `acontext-mcp` console script the host should run.

    Prefers the script next to this interpreter (the installation running now); uses the PATH
    spelling when it is the same file (a pipx symlink survives reinstalls).
    """
    if explicit:
        path = Path(explicit).expanduser().absolute()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SetupError(f"--command {explicit}: not an executable file")
        return str(path)
    sibling = Path(sys.executable).parent / EXECUTABLE
    on_path = shutil.which(EXECUTABLE)
    if on_path:
        on_path = str(Path(on_path).absolute())
    if sibling.is_file() and os.access(sibling, os.X_OK):
        if on_path and os.path.realpath(on_path) == os.path.realpath(sibling):
            return on_path
        return str(sibling)
    if on_path:
        return on_path
    raise SetupError(
        f"cannot find the {EXECUTABLE} console script (not next to {sys.executable}, not on "
        "PATH); install the package with pip or pipx, or pass --command /path/to/acontext-mcp"
    )


def executable_problem(argv: list[str], env: dict[str, str]) -> str | None:
    """Why the host could not start `argv` with `env`'s PATH, or None; named up front, since a
    failed start only shows as exit 127."""
    if not argv:
        return "the command is empty"
    exe = argv[0]
    if "$" in exe:
        return None  # a placeholder the host expands; cannot judge here
    if os.sep in exe:
        if not os.path.isfile(exe):
            return f"{exe} does not exist"
        if not os.access(exe, os.X_OK):
            return f"{exe} is not executable"
        return None
    if shutil.which(exe, path=env.get("PATH")) is None:
        return f"{exe} is not on PATH"
    return None


def explicit_home() -> str | None:
    """ACONTEXT_HOME when set in this shell: baked into what we register, since the host
    agent does not inherit this shell's environment."""
    return config.explicit_home()


def split_command(command: str) -> tuple[dict[str, str], list[str]] | None:
    """(leading VAR=value assignments, argv) of a shell-form command; None if unparseable."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        return None
    env: dict[str, str] = {}
    while tokens and "=" in tokens[0] and tokens[0].split("=", 1)[0].isidentifier():
        name, value = tokens.pop(0).split("=", 1)
        env[name] = value
    return env, tokens


def names_us(token: str) -> bool:
    """An argv token that is our console script or module (any path, any version)."""
    base = os.path.basename(token)
    return base in (EXECUTABLE, "acontext_mcp") or base.startswith(EXECUTABLE + "@")


def manifest_path(home: Path, name: str) -> Path:
    return home / "installs" / f"{name}.json"


def path_tag(path: Path) -> str:
    """A file-name-safe tag for a path, so each project or config gets its own manifest."""
    return "".join(c if c.isalnum() else "-" for c in str(path)).strip("-")[-80:]


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The record of an earlier install; None when absent or unreadable (then signatures
    alone decide what is ours)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_our_server(value: Any) -> bool:
    """An MCP server entry that runs `acontext-mcp serve` (any path, also via uvx/pipx)."""
    if not isinstance(value, dict) or not isinstance(value.get("command"), str):
        return False
    args = value.get("args")
    if not isinstance(args, list):
        args = []
    argv = [value["command"], *(str(a) for a in args)]
    return any(names_us(tok) and "serve" in argv[i + 1 :] for i, tok in enumerate(argv))

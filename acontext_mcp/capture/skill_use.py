"""Skill uses found in newly stored assistant messages: the one place uses are derived from
tool calls, for live hooks and `import` alike.

Counted: the host's Skill tool naming one of our skills (Claude Code: `{"skill": name}`, a
directory-scoped skill as `apps/web:name`), and reads of a file inside one of our skill
copies or the skills repository (skills/copies.py): the Read tool (`file_path`; OpenClaw's
`read`, `path`) and shell commands (Bash; OpenClaw's `exec`) that run cat, head, tail, less,
more, sed, bat or nl on such a path. A call is counted when its message is first stored (or a
late content block extends it), so a re-import or a resent history counts nothing twice; a
call that then failed is still counted, as the agent reached for the skill. Standard library
only: this runs inside hooks, and costs nothing until a message holds one of those tools.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
from collections.abc import Iterable
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.skills.copies import SkillFolders, skill_folders
from acontext_mcp.store.skill_uses import record_uses

SKILL_TOOLS = {"Skill": ("skill",)}
READ_TOOLS = {"Read": ("file_path",), "read": ("path", "file_path")}
SHELL_TOOLS = {"Bash": ("command",), "bash": ("command",), "exec": ("command",)}
WATCHED = SKILL_TOOLS.keys() | READ_TOOLS.keys() | SHELL_TOOLS.keys()
READERS = frozenset({"cat", "head", "tail", "less", "more", "sed", "bat", "nl"})
_SEPARATORS = frozenset({";", "&", "&&", "|", "||", "(", ")", "|&"})
_REDIRECT = frozenset("<>&")

Use = tuple[str, str, str | None]  # (kind, skill, path inside it)


class UseFinder:
    """Finds skill uses in messages for one capture call; the skill folders are looked up
    once, on the first watched tool call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._folders: SkillFolders | None = None
        # A read of our files names a folder called `skills` (every sync target is one,
        # skills/sync.targets) or the skills repository: calls whose raw arguments name
        # neither are passed over unparsed, and most hooks never read a manifest.
        source = settings.skills_dir.name
        plain = source.isascii() and source.isprintable() and not set(source) & set('"\\')
        self.hints = ("skills", source) if plain else None

    def _may_read(self, raw: Any) -> bool:
        if self.hints is None or not isinstance(raw, str):
            return True
        return any(hint in raw for hint in self.hints)

    @property
    def folders(self) -> SkillFolders:
        if self._folders is None:
            self._folders = skill_folders(self.settings)
        return self._folders

    def uses(self, parts: Iterable[Any], cwd: str | None) -> list[Use]:
        """The uses the tool calls among `parts` make, in order."""
        out: list[Use] = []
        for part in parts:
            if not isinstance(part, dict) or part.get("type") != "tool-call":
                continue
            name = part.get("name")
            if name not in WATCHED:
                continue
            if name not in SKILL_TOOLS and not self._may_read(part.get("arguments")):
                continue
            args = tool_arguments(part.get("arguments"))
            if args is None:
                continue
            if name in SKILL_TOOLS:
                skill = self._skill_named(_first_text(args, SKILL_TOOLS[name]))
                if skill is not None:
                    out.append(("skill_tool", skill, None))
            elif name in READ_TOOLS:
                found = self.folders.locate(_first_text(args, READ_TOOLS[name]) or "", cwd)
                if found is not None:
                    out.append(("read", *found))
            else:
                command = _first_text(args, SHELL_TOOLS[name]) or ""
                out.extend(("read", skill, rel) for skill, rel in self._shell_reads(command, cwd))
        return out

    def _skill_named(self, value: str | None) -> str | None:
        """Our skill a Skill call names: `name`, or `dir/scope:name` for a directory-scoped
        one; a plugin's `plugin:name` is someone else's."""
        if not value:
            return None
        value = value.strip().lstrip("/")
        scope, colon, name = value.rpartition(":")
        if colon and "/" not in scope:
            return None
        return name if name in self.folders.names else None

    def _shell_reads(self, command: str, cwd: str | None) -> list[tuple[str, str]]:
        """(skill, file) for each path into our skills that a reader command names."""
        if not command or not any(b in command for b in self.folders.basenames):
            return []
        try:
            lines = command.replace("\n", " ; ")
            lexer = shlex.shlex(lines, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:  # unbalanced quotes: plain words are good enough here
            tokens = command.split()
        found: list[tuple[str, str]] = []
        start, reading, target = True, False, False
        for token in tokens:
            if token in _SEPARATORS:
                start, reading = True, False
                continue
            if set(token) <= _REDIRECT:  # `> file`: the next word is written, not read
                target = True
                continue
            if target:
                target = False
                continue
            if start:
                reading = os.path.basename(token) in READERS
                start = False
                continue
            if not reading or token.startswith("-"):
                continue
            hit = self.folders.locate(_home_var(token), cwd)
            if hit is not None and hit not in found:
                found.append(hit)
        return found


def record(
    conn: sqlite3.Connection,
    uses: list[Use],
    *,
    session_id: str,
    project_dir: str | None,
    at: float | None,
) -> int:
    """Store the uses (inside the caller's transaction), grouped by kind; returns how many."""
    total = 0
    for kind in dict.fromkeys(kind for kind, _s, _p in uses):
        rows = [(skill, path, None) for k, skill, path in uses if k == kind]
        total += record_uses(
            conn, rows, kind, session_id=session_id, project_dir=project_dir, at=at
        )
    return total


def tool_arguments(raw: Any) -> dict[str, Any] | None:
    """A tool call's input as an object: stored as one, or as JSON text (OpenAI style)."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _first_text(args: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _home_var(token: str) -> str:
    """`$HOME/x` and `${HOME}/x` as `~/x`: the commonest way a command spells the home."""
    for prefix in ("$HOME/", "${HOME}/"):
        if token.startswith(prefix):
            return "~/" + token[len(prefix) :]
    return token

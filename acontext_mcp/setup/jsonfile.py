"""Merging our entries into other programs' JSON settings files, safely and reversibly.

Those files belong to the user and their host agent (Claude Code rewrites `~/.claude.json`
constantly), so: refuse to touch a file we cannot parse, keep unknown keys and key order,
write through a temp file + `os.replace` with the old permissions, back the file up first,
re-check just before writing that nobody changed it meanwhile, and record each change
(`FileRecord`) so uninstall restores what was there.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp.fsio import replace_file
from acontext_mcp.private import user_mkdir
from acontext_mcp.setup import Outcome, SetupError

Key = list[str]


@dataclass
class JsonDoc:
    """One settings file as read: its text (None when absent) and parsed object."""

    path: Path
    text: str | None
    data: dict[str, Any]


def read_doc(path: Path, *, hint: str = "") -> JsonDoc:
    """Read a JSON object file; a missing file is `{}`. Malformed content raises SetupError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return JsonDoc(path, None, {})
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"cannot read {path}: {exc}; nothing was changed") from exc
    if not text.strip():
        return JsonDoc(path, text, {})
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SetupError(
            f"{path} is not valid JSON ({exc}); refusing to modify it, nothing was changed. "
            f"Fix the file (or move it away) and run again.{' ' + hint if hint else ''}"
        ) from exc
    if not isinstance(data, dict):
        raise SetupError(
            f"{path} holds a JSON {type(data).__name__}, not an object; nothing was changed"
        )
    return JsonDoc(path, text, data)


def render(data: dict[str, Any], like: str | None) -> str:
    """JSON text in the style of the file it replaces (indent, final newline)."""
    indent: int | str = 2
    if like:
        found = re.search(r"^\{\s*\n([ \t]+)\"", like)
        if found:
            ws = found.group(1)
            indent = ws if "\t" in ws else len(ws)
    newline = "\n" if like is None or like.endswith("\n") else ""
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates survive only as escapes
        text = json.dumps(data, indent=indent)
    return text + newline


# --- Nested keys ---

MISSING: Any = object()


def get_in(data: Any, key: Key) -> Any:
    for part in key:
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def _parent(data: dict[str, Any], key: Key) -> dict[str, Any] | None:
    parent = get_in(data, key[:-1])
    return parent if isinstance(parent, dict) else None


def delete_in(data: dict[str, Any], key: Key) -> None:
    parent = _parent(data, key)
    if parent is not None:
        parent.pop(key[-1], None)


def dotted(key: Key) -> str:
    return ".".join(key)


@dataclass
class FileRecord:
    """What install did to one file: containers it created, values it set (with what they
    replaced), list items it appended, and whether it created the file itself."""

    created: bool = False
    backup: str | None = None  # the copy taken before the first change
    created_keys: list[Key] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    appends: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, raw: Any) -> FileRecord:
        if not isinstance(raw, dict):
            return cls()
        return cls(
            created=bool(raw.get("created")),
            backup=raw.get("backup") if isinstance(raw.get("backup"), str) else None,
            created_keys=[list(k) for k in raw.get("created_keys") or []],
            sets=list(raw.get("sets") or []),
            appends=list(raw.get("appends") or []),
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def container(self, data: dict[str, Any], key: Key, kind: type = dict) -> Any:
        """The dict (or list) at `key`, created (and recorded) where missing."""
        node: Any = data
        for i, part in enumerate(key):
            last = i == len(key) - 1
            if part not in node:
                node[part] = kind() if last else {}
                if key[: i + 1] not in self.created_keys:
                    self.created_keys.append(key[: i + 1])
            node = node[part]
            want = kind if last else dict
            if not isinstance(node, want):
                raise SetupError(
                    f"`{dotted(key[: i + 1])}` is a {type(node).__name__}, expected "
                    f"{'an object' if want is dict else 'a list'}; fix it by hand, nothing was "
                    "changed"
                )
        return node

    def set(self, data: dict[str, Any], key: Key, value: Any) -> bool:
        """Set a value, remembering the one it displaces (the first install's, on reinstalls)."""
        current = get_in(data, key)
        if current == value:
            return False
        mine = next((s for s in self.sets if s["path"] == key), None)
        if mine is None:
            entry = {"path": key, "new": copy.deepcopy(value), "had_old": current is not MISSING}
            if current is not MISSING:
                entry["old"] = copy.deepcopy(current)
            self.sets.append(entry)
        else:
            mine["new"] = copy.deepcopy(value)
        self.container(data, key[:-1])[key[-1]] = value
        return True

    def append(self, data: dict[str, Any], key: Key, value: Any) -> bool:
        items = self.container(data, key, list)
        if value in items:
            return False
        items.append(value)
        if {"path": key, "value": value} not in self.appends:
            self.appends.append({"path": key, "value": value})
        return True

    def undo(self, data: dict[str, Any], notes: list[str]) -> None:
        """Restore what install displaced; values changed since are left alone (and named)."""
        for entry in reversed(self.sets):
            key = entry["path"]
            current = get_in(data, key)
            if current is MISSING:
                continue
            if current != entry["new"]:
                notes.append(f"left `{dotted(key)}` as it is: it was changed after install")
                continue
            if entry.get("had_old"):
                self.container(data, key[:-1])[key[-1]] = entry["old"]
            else:
                delete_in(data, key)
        for entry in self.appends:
            items = get_in(data, entry["path"])
            if isinstance(items, list) and entry["value"] in items:
                items.remove(entry["value"])
        prune(data, self.created_keys)


def prune(data: dict[str, Any], keys: list[Key]) -> None:
    """Delete these containers where they are empty now, deepest first."""
    for key in sorted(keys, key=len, reverse=True):
        value = get_in(data, key)
        if value is not MISSING and isinstance(value, (dict, list)) and not value:
            delete_in(data, key)


# --- Writing ---


@dataclass
class Edit:
    """One file's planned change: text before (None: absent) and after (None: delete)."""

    path: Path
    before: str | None
    after: str | None
    new_mode: int = 0o644  # for files we create; existing files keep theirs

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        a = (self.before or "").splitlines(keepends=True)
        b = (self.after or "").splitlines(keepends=True)
        lines = difflib.unified_diff(
            a,
            b,
            fromfile=str(self.path) if self.before is not None else "/dev/null",
            tofile=str(self.path) if self.after is not None else "/dev/null",
        )
        return "".join(
            x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines
        )


def plan(
    doc: JsonDoc,
    data: dict[str, Any],
    *,
    delete_if_empty: bool = False,
    new_mode: int = 0o644,
    original: str | None = None,
) -> Edit:
    """The edit turning `doc` into `data`. Untouched data keeps the file byte for byte, and
    so does data equal to `original` (the text before install): uninstall restores it as it
    was, spacing included."""
    if doc.text is None and not data:
        return Edit(doc.path, None, None, new_mode)  # nothing there, nothing to add
    if delete_if_empty and not data:
        return Edit(doc.path, doc.text, None, new_mode)
    for text in (doc.text, original):
        if text is not None and _same(text, data):
            return Edit(doc.path, doc.text, text, new_mode)
    return Edit(doc.path, doc.text, render(data, doc.text), new_mode)


def _same(text: str, data: dict[str, Any]) -> bool:
    try:
        parsed = json.loads(text) if text.strip() else {}
    except ValueError:
        return False
    return parsed == data and _same_order(parsed, data)


def original_text(record: FileRecord | None) -> str | None:
    """The file's text before the first install, from its backup (None if gone)."""
    if record is None or not record.backup:
        return None
    try:
        return Path(record.backup).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _same_order(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same_order(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return all(_same_order(x, y) for x, y in zip(a, b, strict=False))
    return True


def write_atomic(path: Path, text: str, *, new_mode: int = 0o644) -> None:
    """Replace the file's content in one rename, keeping its mode and owner.

    A symlinked settings file is written through (its target is replaced), so the link stays.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    user_mkdir(target.parent)  # e.g. a project's .claude/: the user's modes, not ours
    try:
        old = target.stat()
    except FileNotFoundError:
        old = None
    owner = None
    if old and hasattr(os, "chown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        owner = (old.st_uid, old.st_gid)  # e.g. root editing a user's file: it stays theirs
    replace_file(
        target,
        text.encode("utf-8"),
        prefix=f".{target.name}.",
        suffix=".tmp",
        mode=stat.S_IMODE(old.st_mode) if old else new_mode,
        owner=owner,
    )


def backup_dir(home: Path) -> Path:
    """A fresh `<home>/installs/backups/<timestamp>` (owner-only: settings may hold secrets)."""
    root = home / "installs" / "backups"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = root / stamp, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return candidate


KEEP_BACKUPS = 5  # install/uninstall runs whose backups are kept, besides the ones in use


def prune_backups(home: Path, keep: int = KEEP_BACKUPS) -> list[Path]:
    """Delete all but the newest `keep` backup folders; returns the deleted ones.

    A backup that a manifest (`<home>/installs/*.json`) still names is kept whatever its age:
    uninstall restores a file's text from its first backup.
    """
    root = home / "installs" / "backups"
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    except FileNotFoundError:
        return []
    in_use: set[Path] = set()
    for manifest in (home / "installs").glob("*.json"):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        except (OSError, ValueError, AttributeError):
            return []  # cannot tell what is in use: delete nothing
        for record in files.values() if isinstance(files, dict) else []:
            backup = record.get("backup") if isinstance(record, dict) else None
            if isinstance(backup, str):
                in_use.add(Path(backup).parent)
    deleted = []
    for folder in folders[: max(0, len(folders) - keep)]:
        if folder not in in_use:
            shutil.rmtree(folder, ignore_errors=True)
            deleted.append(folder)
    return deleted


def backup_name(path: Path) -> str:
    """`/home/u/.claude/settings.json` -> `home_u_.claude_settings.json`."""
    return str(path.absolute()).strip(os.sep).replace(os.sep, "_")


def apply(edits: list[Edit], backups: Path) -> list[str]:
    """Back up and write every changed file; returns the backup paths.

    All files are re-read first: if one changed since it was planned (its host rewrote it),
    nothing at all is written.
    """
    changed = [e for e in edits if e.changed]
    for edit in changed:
        try:
            now: str | None = edit.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            now = None
        if now != edit.before:
            raise SetupError(
                f"{edit.path} changed while acontext-mcp was editing it (its host "
                "may have rewritten it); nothing was written, run the command again"
            )
    made: list[str] = []
    for edit in changed:
        if edit.before is not None:
            backups.mkdir(parents=True, exist_ok=True, mode=0o700)
            copy = backups / backup_name(edit.path)
            shutil.copy2(edit.path, copy)
            os.chmod(copy, 0o600)  # copy2 kept the settings file's mode; backups are ours
            made.append(str(copy))
        if edit.after is None:
            edit.path.unlink(missing_ok=True)
        else:
            write_atomic(edit.path, edit.after, new_mode=edit.new_mode)
    return made


def commit(
    out: Outcome,
    edits: list[Edit],
    home: Path,
    manifest_file: Path,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> Outcome:
    """Shared tail of install/uninstall: report; then, unless a dry run, back up, write the
    files and the manifest (`new`; None deletes it). Nothing changed writes nothing."""
    for edit in edits:
        if edit.after is None and edit.before is not None:
            out.removed.append(str(edit.path))
        elif edit.before is None and edit.after is not None:
            out.created.append(str(edit.path))
        elif edit.changed:
            out.changed.append(str(edit.path))
        elif edit.before is not None:
            out.unchanged.append(str(edit.path))
    out.diff = "".join(e.diff() for e in edits if e.changed)
    bare_old = {k: v for k, v in (old or {}).items() if k != "updated_at"}
    record_changes = (new is None and old is not None) or (new is not None and bare_old != new)
    if out.dry_run or (not any(e.changed for e in edits) and not record_changes):
        return out
    backups = backup_dir(home)
    for edit in edits:  # remember each file's first backup: uninstall restores its text
        record = (new or {}).get("files", {}).get(str(edit.path))
        if record is not None and edit.changed and edit.before is not None:
            record.setdefault("backup", None)
            record["backup"] = record["backup"] or str(backups / backup_name(edit.path))
    out.backups = apply(edits, backups)
    if new is None:
        manifest_file.unlink(missing_ok=True)
    else:
        stamped = {**new, "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        manifest_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps(stamped, indent=2, ensure_ascii=False) + "\n"
        write_atomic(manifest_file, text, new_mode=0o600)
    prune_backups(home)
    return out

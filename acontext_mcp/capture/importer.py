"""Backfill: every Claude Code transcript under a projects folder -> the store, resumable.

Claude Code keeps `<root>/<project-slug>/<session-id>.jsonl` and, per session, subagent
transcripts under `<session-id>/subagents/agent-<id>.jsonl` (older versions: `agent-<id>.jsonl`
next to the session file). Each file is captured with the hooks' own `capture_transcript`, so
it shares their cursor and dedup keys: a re-run reads only what was appended since, and a
message is stored once whoever (hook or import) gets to it first. A file is committed in
several short transactions; an interrupted import keeps what was committed and resumes there.

Trigger: a transcript modified within the live window. Why: its session may still be writing
the last assistant message one line per content block; flushing it now (`final=True`) would
store a partial message that its later blocks must then extend (capture does, but a row that
changes after later stages read it is worth avoiding). Outcome: such a file is captured like a
hook mid-turn (`final=False`): everything but that possibly-growing message is stored, and the
session's own Stop hook or the next import stores the rest. Files quiet for longer, and
subagents whose `.meta.json` says finished, are flushed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp.capture.claude_code import capture_transcript, cursor_key, subagent_session_id
from acontext_mcp.capture.transcript import open_regular
from acontext_mcp.config import Settings, claude_config_dir
from acontext_mcp.privacy.switches import capture_allowed
from acontext_mcp.store.cursors import get_cursor

DEFAULT_LIVE_WINDOW = 600.0  # seconds: a transcript written to this recently may still grow
READ_LIMIT = 8 * 1024 * 1024  # bytes per transaction: live hooks never wait long for the lock
SNIFF_BYTES = 1024 * 1024  # how far into a file to look for its cwd and sessionId
SNIFF_LINES = 500


def default_root() -> Path:
    """Where Claude Code keeps transcripts: `$CLAUDE_CONFIG_DIR/projects` or ~/.claude/projects."""
    return claude_config_dir() / "projects"


# --- Discovery ---


class Transcript:
    """One transcript file found on disk and the session it belongs to.

    `parent_id` is known from the layout for `<session>/subagents/` files; a legacy
    `agent-<id>.jsonl` next to the session files names its parent only inside (`sessionId`),
    so `legacy_agent` marks it for `identify`.
    """

    __slots__ = ("agent_id", "legacy_agent", "mtime", "parent_id", "path", "size")

    def __init__(
        self,
        path: Path,
        *,
        parent_id: str | None = None,
        agent_id: str | None = None,
        legacy_agent: bool = False,
    ) -> None:
        self.path = path
        self.parent_id, self.agent_id, self.legacy_agent = parent_id, agent_id, legacy_agent
        try:
            st = path.stat()
            self.size, self.mtime = st.st_size, st.st_mtime
        except OSError:  # vanished or a dangling link: reported when it is imported
            self.size, self.mtime = 0, 0.0

    def __repr__(self) -> str:
        return f"Transcript({str(self.path)!r}, parent_id={self.parent_id!r})"


@dataclass
class Found:
    """What `discover` found: transcripts in import order, and folders it could not list."""

    root: Path
    transcripts: list[Transcript] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(t.size for t in self.transcripts)


def discover(root: str | os.PathLike[str]) -> Found:
    """Transcripts under `root`: the projects folder, one project's folder, or one `.jsonl`.

    Order: sessions oldest first (by modification time), each followed by its subagents, so
    parents are stored before their children; a re-run visits them in the same order.
    """
    root = Path(os.path.abspath(os.path.expanduser(root)))
    found = Found(root)
    if root.is_file():
        found.transcripts.append(_top_level(root))
        return found
    folders = [root]
    try:
        folders += sorted(p for p in root.iterdir() if p.is_dir())
    except OSError as exc:
        found.errors.append((str(root), _reason(exc)))
        return found
    groups: list[tuple[float, str, list[Transcript]]] = []
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            found.errors.append((str(folder), _reason(exc)))
            continue
        files = {e.stem: e for e in entries if e.suffix == ".jsonl" and _transcript_like(e)}
        for stem, path in files.items():
            session = _top_level(path)
            group = [session, *_subagents(path.with_suffix(""), stem, found)]
            groups.append((session.mtime, str(path), group))
        for entry in entries:  # subagents whose session file is gone (cleaned up, moved)
            if entry.name not in files and (entry / "subagents").is_dir():
                group = _subagents(entry, entry.name, found)
                if group:
                    groups.append((min(t.mtime for t in group), str(entry), group))
    for _mtime, _path, group in sorted(groups, key=lambda g: (g[0], g[1])):
        found.transcripts.extend(group)
    return found


def _transcript_like(path: Path) -> bool:
    """A regular file, or a dangling link (reported as unreadable rather than ignored);
    never a directory or a FIFO, which would block the reader."""
    return path.is_file() or (path.is_symlink() and not path.exists())


def _top_level(path: Path) -> Transcript:
    if path.stem.startswith("agent-"):
        return Transcript(path, agent_id=path.stem.removeprefix("agent-"), legacy_agent=True)
    return Transcript(path)


def _subagents(session_dir: Path, parent_id: str, found: Found) -> list[Transcript]:
    folder = session_dir / "subagents"
    if not folder.is_dir():
        return []
    try:
        paths = sorted(folder.glob("agent-*.jsonl"))
    except OSError as exc:
        found.errors.append((str(folder), _reason(exc)))
        return []
    return [
        Transcript(p, parent_id=parent_id, agent_id=p.stem.removeprefix("agent-"))
        for p in paths
        if _transcript_like(p)
    ]


# --- Identity ---


@dataclass
class Identity:
    """Who a transcript is: its session id, its parent (subagents) and project directory."""

    session_id: str
    parent_id: str | None
    project_dir: str | None

    @property
    def privacy_session_id(self) -> str:
        """The id the per-session capture switch names: hooks see the parent's session id."""
        return self.parent_id or self.session_id


def identify(transcript: Transcript, cwds: dict[str, str] | None = None) -> Identity:
    """The session a transcript is stored under and its project directory: the first `cwd`
    its lines carry (the project slug in the folder name is lossy), else the parent's.
    Raises OSError when the file cannot be read."""
    cwd, line_session = _sniff(transcript.path)
    parent = transcript.parent_id
    if transcript.legacy_agent and line_session and line_session != transcript.path.stem:
        parent = line_session
    if parent and transcript.agent_id is not None:
        session_id = subagent_session_id(parent, transcript.agent_id)
    else:
        session_id, parent = transcript.path.stem, None
    known = (cwds or {}).get(parent or "")
    return Identity(session_id, parent, known or cwd)


def _sniff(path: Path) -> tuple[str | None, str | None]:
    """(cwd, sessionId) from the first lines that carry them, reading at most SNIFF_BYTES."""
    cwd = session = None
    budget = SNIFF_BYTES
    with open_regular(path) as fh:  # a FIFO swapped in since discovery must not block
        for _ in range(SNIFF_LINES):
            raw = fh.readline(budget)
            budget -= len(raw)
            if not raw or budget <= 0:
                break
            if b'"cwd"' not in raw and b'"sessionId"' not in raw:
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if cwd is None and isinstance(record.get("cwd"), str) and record["cwd"]:
                cwd = record["cwd"]
            if session is None and isinstance(record.get("sessionId"), str):
                session = record["sessionId"] or None
            if cwd and session:
                break
    return cwd, session


# --- Planning (dry run) ---


def plan(
    conn: sqlite3.Connection | None,
    settings: Settings,
    found: Found,
    *,
    live_window: float = DEFAULT_LIVE_WINDOW,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """What an import would do with each transcript, without writing anything: its session,
    project, size, bytes not yet captured (per the stored cursor, when `conn` is given) and
    action: `import`, `live` (imported, its last message may wait), `off` or `error`."""
    now = time.time() if now is None else now
    cwds: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for t in found.transcripts:
        row: dict[str, Any] = {"path": str(t.path), "size": t.size, "new_bytes": t.size}
        try:
            who = identify(t, cwds)
        except OSError as exc:
            rows.append({**row, "new_bytes": 0, "action": "error", "reason": _reason(exc)})
            continue
        if who.project_dir and not who.parent_id:
            cwds[who.session_id] = who.project_dir
        row.update(session_id=who.session_id, parent_id=who.parent_id, project_dir=who.project_dir)
        if conn is not None:
            offset = _cursor_offset(conn, who.session_id, t.path)
            row["new_bytes"] = t.size - offset if 0 <= offset <= t.size else t.size
        allowed, why = capture_allowed(
            settings, project_dir=who.project_dir, session_id=who.privacy_session_id
        )
        if not allowed:
            row.update(action="off", reason=why, new_bytes=0)
        elif not _final(t, live_window, now):
            row.update(action="live", reason="modified recently; its last message may wait")
        else:
            row.update(action="import", reason="")
        rows.append(row)
    return rows


def _cursor_offset(conn: sqlite3.Connection, session_id: str, path: Path) -> int:
    value = get_cursor(conn, cursor_key(session_id, path))
    offset = value.get("offset") if isinstance(value, dict) else 0
    return offset if isinstance(offset, int) else 0


# --- Import ---


@dataclass
class ImportStats:
    """Running totals of one import; the progress callback sees them after every file."""

    root: str
    files_total: int
    bytes_total: int
    files_done: int = 0
    bytes_done: int = 0
    bytes_read: int = 0  # bytes past the stored cursors, i.e. not captured before
    sessions: int = 0
    subagents: int = 0
    stored: int = 0
    duplicates: int = 0
    events: int = 0
    skill_uses: int = 0  # uses of our skills found in what was stored (capture/skill_use.py)
    invalid_lines: int = 0
    off: int = 0
    off_reasons: Counter[str] = field(default_factory=Counter)
    live: int = 0
    waiting: int = 0  # files whose last assistant message was held back (live)
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        seconds = self.seconds or (time.monotonic() - self.started)
        return {
            "root": self.root,
            "files": self.files_total,
            "files_done": self.files_done,
            "bytes": self.bytes_total,
            "bytes_done": self.bytes_done,
            "bytes_read": self.bytes_read,
            "sessions": self.sessions,
            "subagents": self.subagents,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "events": self.events,
            "skill_uses": self.skill_uses,
            "invalid_lines": self.invalid_lines,
            "off": self.off,
            "off_reasons": dict(self.off_reasons),
            "live": self.live,
            "waiting": self.waiting,
            "failed": self.failed,
            "errors": self.errors,
            "interrupted": self.interrupted,
            "seconds": round(seconds, 3),
            # None when nothing was read: a rate of zero bytes measures nothing
            "mb_per_s": (
                round(self.bytes_read / 1e6 / max(seconds, 1e-9), 2) if self.bytes_read else None
            ),
        }


ProgressCallback = Callable[[ImportStats, "Transcript | None"], None]


def import_transcripts(
    conn: sqlite3.Connection,
    settings: Settings,
    found: Found,
    *,
    live_window: float = DEFAULT_LIVE_WINDOW,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    now: float | None = None,
) -> ImportStats:
    """Capture every transcript found, each exactly once across runs and live hooks.

    A file that cannot be read (or fails otherwise) is recorded in `errors` and the import
    goes on; a store that cannot be written (locked, disk full) stops it by raising.
    `should_stop` is checked before each file; a KeyboardInterrupt inside a file rolls back
    only that file's open transaction. Either way `interrupted` is set and what was committed
    stays: the next run resumes from the cursors.
    """
    now = time.time() if now is None else now
    stats = ImportStats(str(found.root), len(found.transcripts), found.total_bytes)
    for path, reason in found.errors:
        stats.failed += 1
        stats.errors.append({"path": path, "error": reason})
    cwds: dict[str, str] = {}
    if progress:
        progress(stats, None)
    for t in found.transcripts:
        if should_stop and should_stop():
            stats.interrupted = True
            break
        try:
            _import_one(conn, settings, t, stats, cwds, live_window, now)
        except KeyboardInterrupt:
            stats.interrupted = True
            break
        except sqlite3.OperationalError:
            raise  # the store itself failed (locked, full, I/O): no other file would do better
        except Exception as exc:  # one bad file must not stop a backfill of thousands
            stats.failed += 1
            stats.errors.append({"path": str(t.path), "error": _reason(exc)})
        stats.files_done += 1
        stats.bytes_done += t.size
        if progress:
            progress(stats, t)
    stats.seconds = time.monotonic() - stats.started
    return stats


def _import_one(
    conn: sqlite3.Connection,
    settings: Settings,
    t: Transcript,
    stats: ImportStats,
    cwds: dict[str, str],
    live_window: float,
    now: float,
) -> None:
    who = identify(t, cwds)
    if who.project_dir and not who.parent_id:
        cwds[who.session_id] = who.project_dir
    allowed, why = capture_allowed(
        settings, project_dir=who.project_dir, session_id=who.privacy_session_id
    )
    if not allowed:
        stats.off += 1
        stats.off_reasons[why] += 1
        return
    before = _cursor_offset(conn, who.session_id, t.path)
    final = _final(t, live_window, now)
    totals = capture_transcript(
        conn,
        settings,
        session_id=who.session_id,
        transcript_path=t.path,
        project_dir=who.project_dir,
        parent_session_id=who.parent_id,
        final=final,
        read_limit=READ_LIMIT,
        max_bytes=None,  # an import reads each file to its end (memory stays per step)
        max_seconds=None,
    )
    stats.bytes_read += totals["cursor"] - (0 if totals["reset"] else before)
    stats.stored += totals["stored"]
    stats.duplicates += totals["duplicates"]
    stats.events += totals["events"]
    stats.skill_uses += totals["skill_uses"]
    stats.invalid_lines += totals["invalid_lines"]
    stats.live += not final
    stats.waiting += bool(totals["pending"])
    if who.parent_id:
        stats.subagents += 1
    else:
        stats.sessions += 1


def _final(t: Transcript, live_window: float, now: float) -> bool:
    """Whether the file can no longer grow: quiet for the live window, or a subagent whose
    meta file says it finished."""
    if now - t.mtime >= live_window:
        return True
    return t.agent_id is not None and _meta_finished(t.path)


def _meta_finished(path: Path) -> bool:
    try:
        meta = json.loads(path.with_name(path.stem + ".meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # no readable meta: the modification time decides
    return isinstance(meta, dict) and meta.get("finished") is True


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"

"""Copy our skill folders into the agents' skill folders without touching anyone else's.

A manifest per target (`<home>/sync/<hash of target>.json`) records each skill we wrote and a
sha256 per file. It decides what we own:

- a folder in the target that is not in the manifest is someone else's: a source skill with
  that name is a *clash*, reported and never overwritten;
- a copy whose files no longer match the manifest was edited by the user: reported, left alone
  (neither updated nor removed);
- a skill gone from the source is removed from the target only when the copy is unchanged.

Each skill is placed atomically: copied into `.<name>.acontext-tmp-<pid>` inside the target,
then renamed into place (an update renames the old copy to `.<name>.acontext-old-<pid>` first
and deletes it afterwards). The manifest records the new hashes, and the previous ones, before
the rename, so an interrupted sync never leaves a half-written skill nor mistakes its own copy
for a user edit; the next sync removes the leftovers (restoring an old copy whose replacement
never landed) and completes.

Nothing secret reaches an agent: a skill with a file whose name or text holds a secret (the
capture redactor's `secret_kinds`; a user's hand edit, a pulled remote) is not copied, and the
report's `skipped` names the file and the kind (never the secret); the previous copy stays.
A file whose content is what we copied last time, with the same redactor (the manifest keeps
its version), was scanned then and is not scanned again.

When nothing changed, a sync costs a stat per file: the manifest also keeps a fingerprint of
every file the last complete sync read (size, mtime, ctime, inode, mode; source and our copies)
and that sync's outcome. A sync whose fingerprint matches reports that outcome again and
touches nothing (a folder whose stat is unchanged is not even listed: its entries are the
fingerprint's). Otherwise the sync reads and hashes only the skills whose files' stats differ
(or that the last sync left out of step); an interrupted sync means all of them. A file
changed within the last FRESH_SECONDS (a next change could keep the same timestamps) vouches
for nothing: its skill is read again until it is older.

Standard library only: this runs from SessionStart hooks.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from acontext_mcp import privacy
from acontext_mcp.config import Settings, claude_config_dir, openclaw_state_dir
from acontext_mcp.errors import AcontextError
from acontext_mcp.fsio import exclusive_lock, replace_file
from acontext_mcp.private import user_mkdir, user_mode
from acontext_mcp.skills import SKILL_FILE, contained
from acontext_mcp.skills.gitstate import conflict_marker_line, operation_in_progress
from acontext_mcp.stat_rows import FRESH_SECONDS, stat_row, stat_tree
from acontext_mcp.stat_rows import fresh as _fresh
from acontext_mcp.stat_rows import listings as _all_listings
from acontext_mcp.user_config import CONFIG_FILE
from acontext_mcp.user_config import load as load_user_config

# SessionStart runs the no-change path while Claude Code waits: what only a changing sync
# needs is imported where it is used (the redactor compiles ~50 patterns on import; logging,
# shutil, typing and dataclasses cost milliseconds each). Type checkers read this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any

    from acontext_mcp.skills.workshop import ProposalsAPI, WorkshopReport

_quiet = False  # see quiet_log

# sha256 from the interpreter's builtin module (hashlib falls back to the same one): hashlib
# itself loads OpenSSL first, ~2 ms of the SessionStart answer, to name a manifest file and
# tell the redactor's version. Same digests (tests/test_skills_sync.py).
try:  # Python 3.12+
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]
except ImportError:
    try:  # Python 3.11
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found]
    except ImportError:  # an interpreter built without it
        from hashlib import sha256 as _sha256

MANIFEST_VERSION = 1
# Claude Code reserves this folder name inside a skills directory.
RESERVED_NAMES = frozenset({"synced"})
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
FAST = "fast"  # manifest key: {"fingerprint", "report"} of the last complete sync
SCANNER = "scanner"  # manifest key: the `scanner_version()` that judged the copies it records
_REPLAYED = ("clashes", "modified_by_user", "skipped")
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.acontext-(?P<kind>tmp|old|del)-(?P<pid>\d+)$")

Hashes = dict[str, str]


def _log() -> logging.Logger:
    """This module's logger, made on first use: the no-change path never logs."""
    import logging

    logger = logging.getLogger(__name__)
    if _quiet and not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


def quiet_log() -> None:
    """Keep this module's warnings off stderr (a hook logs the reports itself, and a hook's
    stderr is the agent's), without importing logging until there is something to say."""
    global _quiet
    _quiet = True


# --- Report ---


class SyncReport:
    """What one sync did to one target; lists hold skill names (skipped/errors: reasons).
    (A plain class, not a dataclass: see the imports.)"""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.written: list[str] = []
        self.updated: list[str] = []
        self.removed: list[str] = []
        self.unchanged: list[str] = []
        self.clashes: list[str] = []
        self.modified_by_user: list[str] = []
        self.skipped: list[str] = []
        self.errors: list[str] = []
        self.workshop: WorkshopReport | None = None  # OpenClaw's: the Workshop reconcile first

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyncReport) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"SyncReport({self.summary()!r})"

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [
            f"{len(getattr(self, key))} {label}"
            for key, label in (
                ("written", "written"),
                ("updated", "updated"),
                ("removed", "removed"),
                ("unchanged", "unchanged"),
            )
            if getattr(self, key)
        ]
        for key, label in (
            ("clashes", "clash"),
            ("modified_by_user", "edited by user, left alone"),
            ("skipped", "skipped"),
            ("errors", "error"),
        ):
            items = getattr(self, key)
            if items:
                parts.append(f"{len(items)} {label} ({'; '.join(items)})")
        line = f"{self.target}: {', '.join(parts) if parts else 'no skills to sync'}"
        return line if self.workshop is None else f"{line}\n{self.workshop.summary()}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": str(self.target)}
        for key in (
            "written",
            "updated",
            "removed",
            "unchanged",
            "clashes",
            "modified_by_user",
            "skipped",
            "errors",
        ):
            out[key] = list(getattr(self, key))
        if self.workshop is not None:
            out["workshop"] = self.workshop.to_dict()
        return out


# --- Targets ---


_TARGET_FIELDS = ("agent", "scope", "skills_dir", "manifest_path", "exclude")


class Target:
    """One agent skills folder we sync into, and the manifest of what we wrote there; a frozen
    value (a plain class, not a dataclass: see the imports)."""

    __slots__ = _TARGET_FIELDS
    agent: str  # "claude-code" | "openclaw"
    scope: str  # "user" | "project" | "shared"
    skills_dir: Path
    manifest_path: Path
    # Skills not copied here: OpenClaw's Skill Workshop holds them (skills/workshop.py).
    exclude: frozenset[str]

    def __init__(
        self,
        agent: str,
        scope: str,
        skills_dir: Path,
        manifest_path: Path,
        exclude: frozenset[str] = frozenset(),
    ) -> None:
        for name, value in zip(
            _TARGET_FIELDS, (agent, scope, skills_dir, manifest_path, exclude), strict=True
        ):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _TARGET_FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Target) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(_TARGET_FIELDS, self._values(), strict=True))
        return f"Target({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a sync Target is frozen; cannot set {name}")


def manifest_path_for(settings: Settings, skills_dir: Path) -> Path:
    """`<home>/sync/<first 16 hex of sha256(absolute target)>.json`."""
    key = str(Path(os.path.abspath(os.path.expanduser(skills_dir))))
    digest = _sha256(key.encode("utf-8")).hexdigest()[:16]
    return settings.home / "sync" / f"{digest}.json"


def claude_user_skills_dir() -> Path:
    """`$CLAUDE_CONFIG_DIR/skills`, else `~/.claude/skills`."""
    return claude_config_dir() / "skills"


def configured_project_dirs(settings: Settings) -> list[Path]:
    """`sync.claude_code_project_dirs` from `<home>/config.json`; a bad file is logged, not
    fatal (it only widens where skills are copied)."""
    sync = load_user_config(settings).get("sync")
    entries = (sync.get("claude_code_project_dirs") if isinstance(sync, dict) else None) or []
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        _log().warning(
            "%s: sync.claude_code_project_dirs must be a list of paths", settings.home / CONFIG_FILE
        )
        return []
    return [Path(e).expanduser() for e in entries if e.strip()]


def agent_present(settings: Settings, agent: str) -> bool:
    """Whether `agent` ("claude-code" | "openclaw") is installed or configured here: its
    config or state folder exists, or `acontext-mcp install` left its record under
    `<home>/installs/` (`<agent>-*.json`, see setup.manifest_path).

    Trigger: a sync picks its targets. Why: an OpenClaw-only machine must not grow a
    `~/.claude/skills` at its first turn, nor a Claude Code one an `~/.openclaw`. Outcome:
    only the agents that are there get copies."""
    folder = claude_config_dir() if agent == "claude-code" else openclaw_state_dir()
    if folder.is_dir():
        return True
    try:
        with os.scandir(settings.home / "installs") as entries:
            return any(e.name.startswith(agent + "-") and e.name.endswith(".json") for e in entries)
    except OSError:
        return False


def targets(settings: Settings, *, project_dir: str | Path | None = None) -> list[Target]:
    """Where skills go: Claude Code's user folder when Claude Code is there (`agent_present`);
    `<project>/.claude/skills` for `project_dir` and each `sync.claude_code_project_dirs`
    entry of `<home>/config.json` (configured, so always); OpenClaw's shared
    `<state dir>/skills` when OpenClaw is there, without the skills its Skill Workshop holds
    for us (skills/workshop.py)."""
    dirs: list[tuple[str, str, Path]] = []
    if agent_present(settings, "claude-code"):
        dirs.append(("claude-code", "user", claude_user_skills_dir()))
    projects = [Path(project_dir).expanduser()] if project_dir else []
    projects += configured_project_dirs(settings)
    for project in projects:
        if project.is_dir():
            dirs.append(("claude-code", "project", project.absolute() / ".claude" / "skills"))
        else:
            _log().warning("skill sync: project %s does not exist; skipped", project)
    held: frozenset[str] = frozenset()
    if agent_present(settings, "openclaw"):
        from acontext_mcp.skills.handover import handed_over

        state = openclaw_state_dir()
        dirs.append(("openclaw", "shared", state / "skills"))
        held = handed_over(settings, state)
    out: list[Target] = []
    seen: set[Path] = set()
    for agent, scope, folder in dirs:
        folder = Path(os.path.abspath(folder))
        if folder in seen:
            continue
        seen.add(folder)
        exclude = held if agent == "openclaw" else frozenset()
        out.append(Target(agent, scope, folder, manifest_path_for(settings, folder), exclude))
    return out


def sync_all(
    settings: Settings,
    *,
    project_dir: str | Path | None = None,
    proposals: ProposalsAPI | None = None,
) -> list[SyncReport]:
    """Sync the skills directory into every target; one report per target. With `proposals`
    (skills.proposals) and an OpenClaw target, proposals first go through OpenClaw's Skill
    Workshop (skills/workshop.reconcile; its report rides on OpenClaw's SyncReport). Not for
    hooks: that costs `openclaw` calls of seconds each when there is something to do."""
    workshop: WorkshopReport | None = None
    if proposals is not None and openclaw_state_dir().is_dir():
        from acontext_mcp.skills.workshop import reconcile

        workshop = reconcile(settings, proposals)  # may accept some: before the copies
    reports = []
    for t in targets(settings, project_dir=project_dir):
        report = sync_skills(
            settings.skills_dir, t.skills_dir, manifest_path=t.manifest_path, exclude=t.exclude
        )
        if t.agent == "openclaw":
            report.workshop = workshop
        reports.append(report)
    return reports


def unsync_all(settings: Settings) -> list[SyncReport]:
    """Take back every copy a sync placed (each manifest under `<home>/sync/`): a sync from an
    empty source, so the same rules hold: only unchanged copies we wrote are removed; a copy
    the user edited, and anything not ours, stays. One report per target."""
    reports: list[SyncReport] = []
    folder = settings.home / "sync"
    manifests = sorted(folder.glob("*.json")) if folder.is_dir() else []
    import tempfile  # here: SessionStart's sync fast path never needs it

    with tempfile.TemporaryDirectory(prefix="acontext-unsync-") as empty:
        for manifest in manifests:
            try:
                target = json.loads(manifest.read_text(encoding="utf-8"))["target"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                _log().warning("skill unsync: %s is unreadable (%s); skipped", manifest, exc)
                continue
            if Path(target).is_dir():
                reports.append(sync_skills(Path(empty), Path(target), manifest_path=manifest))
    return reports


# --- Reading skill folders ---


def _hash_file(path: Path) -> str:
    digest = _sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _source_files(folder: Path, skipped: list[str]) -> dict[str, Path]:
    """Relative path -> file to copy: the regular files of the skill folder. Hidden entries
    (.git) are left out; symbolic links (to files or folders, inside or out) and special files
    are skipped and reported, never followed (skills/contained.py)."""
    files: dict[str, Path] = {}
    for rel, st in contained.walk(folder):
        if st is None:
            kind = "symlink" if (folder / rel).is_symlink() else "not a regular file"
            skipped.append(f"{folder.name}/{rel}: {kind}, not followed")
            continue
        files[rel] = folder / rel
    return files


Contents = dict[str, tuple[bytes, int]]  # relative path -> (data, permission bits)


def file_secrets(rel: str, data: bytes) -> list[str]:
    """The kinds of secret a skill file's path or text holds, sorted; [] when none. A binary
    file (a NUL byte) is judged by its path only."""
    from acontext_mcp.privacy.redact import secret_kinds

    kinds = set(secret_kinds(rel))
    if b"\x00" not in data:
        kinds.update(secret_kinds(data.decode("utf-8", errors="replace")))
    return sorted(kinds)


def _secret_reason(skill: str, rel: str, kinds: list[str]) -> str:
    from acontext_mcp.privacy.redact import redact_text

    shown = redact_text(rel)[0]
    return (
        f"{skill}: {shown} holds what looks like a secret ({', '.join(kinds)}); take it out "
        "of the skills repository (and its git history, if committed) and sync again; not "
        "synced, a previous copy without it stays"
    )


def secret_files(source_dir: Path) -> list[str]:
    """Why each skill of `source_dir` holding a secret is not synced (doctor shows these)."""
    found: list[str] = []
    scratch = SyncReport(target=source_dir)
    for name, folder in _source_skills(Path(os.path.abspath(source_dir)), scratch).items():
        for rel in _source_files(folder, scratch.skipped):
            try:
                data, _ = contained.read_file(folder.parent, f"{name}/{rel}")
            except (AcontextError, OSError):
                continue
            kinds = file_secrets(rel, data)
            if kinds:
                found.append(_secret_reason(name, rel, kinds))
    return found


# The redactor's source, found beside its package rather than imported (importing it compiles
# its patterns): the no-change path only needs its digest.
_REDACTOR = os.path.join(os.path.dirname(privacy.__file__), "redact.py")


@functools.cache
def scanner_version() -> str:
    """Which redactor judged the copies a manifest records: a digest of its source. A new
    one may catch what the last one missed, so everything is scanned again once."""
    try:
        return _sha256(Path(_REDACTOR).read_bytes()).hexdigest()[:16]
    except (OSError, TypeError):
        return ""  # unknown: never trusted, every file is scanned


def _read_sources(
    folder: Path, files: dict[str, Path], skipped: list[str], scanned: Hashes, secret: set[str]
) -> Contents | None:
    """The skill's files as read now, each opened without following links (one swapped in
    since the listing is refused). None, with the reason in `skipped`, when the skill must not
    be copied as it is: a file became unreadable, holds git conflict markers or a secret (then
    its name is added to `secret`). `scanned` holds the hashes of files already scanned clean
    (our last copy's)."""
    out: Contents = {}
    for rel in files:
        try:
            data, st = contained.read_file(folder.parent, f"{folder.name}/{rel}")
        except (AcontextError, OSError) as exc:
            skipped.append(f"{folder.name}: {exc}; not synced, the previous copy is kept")
            return None
        line = conflict_marker_line(data.decode("utf-8", errors="replace"))
        if line is not None:
            skipped.append(
                f"{folder.name}: {rel} line {line} holds git conflict markers; resolve the merge "
                "in the skills repository (edit the file, git add, git commit) and sync again; "
                "the previous copy is kept"
            )
            return None
        known = rel in scanned and scanned[rel] == _sha256(data).hexdigest()
        if known:
            from acontext_mcp.privacy.redact import secret_kinds

            kinds = secret_kinds(rel)
        else:
            kinds = file_secrets(rel, data)
        if kinds:
            skipped.append(_secret_reason(folder.name, rel, kinds))
            _log().warning("skill sync: %s", skipped[-1])
            secret.add(folder.name)
            return None
        out[rel] = (data, stat.S_IMODE(st.st_mode))
    return out


def _target_hashes(folder: Path) -> Hashes:
    """Every entry of a target copy, hidden ones too: anything the user added is a change."""
    out: Hashes = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for name in list(dirnames):
            if (base / name).is_symlink():
                out[(base / name).relative_to(folder).as_posix()] = "symlink"
        for name in filenames:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            out[rel] = _hash_file(path) if stat.S_ISREG(path.lstat().st_mode) else "special"
    return out


def _source_skills(
    source_dir: Path, report: SyncReport, exclude: frozenset[str] = frozenset()
) -> dict[str, Path]:
    """Skill folders of the source: real folders holding SKILL.md, with a safe name, and not
    in `exclude` (held by someone else in this target: our copy goes, as for a removed skill)."""
    skills: dict[str, Path] = {}
    if not source_dir.is_dir():
        return skills
    for entry in sorted(source_dir.iterdir()):
        name = entry.name
        if name.startswith(".") or name in exclude:  # .git, the index DB, our own leftovers
            continue
        if entry.is_symlink():
            if entry.is_dir():
                report.skipped.append(f"{name}: symlinked skill folder not followed")
            continue
        if not entry.is_dir():
            continue
        skill_md = entry / SKILL_FILE
        if skill_md.is_symlink() or not skill_md.is_file():
            continue
        if not _SAFE_NAME.match(name) or name in RESERVED_NAMES:
            report.skipped.append(f"{name}: folder name not usable as a skill name")
            continue
        skills[name] = entry
    return skills


# --- Manifest ---


def _load_manifest(path: Path, target: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": MANIFEST_VERSION, "target": str(target), "skills": {}}
    if not isinstance(data, dict) or not isinstance(data.get("skills"), dict):
        raise ValueError(f"sync manifest {path} is not a manifest; move it away to start over")
    if data.get("target") != str(target):
        raise ValueError(f"sync manifest {path} belongs to {data.get('target')!r}, not {target}")
    return data


def _save_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Compact: machine state, written while SessionStart waits (an indented dump takes the
    # pure-Python encoder, 5x slower for the ~600 fingerprint rows of 50 skills).
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8")
    replace_file(path, data, prefix=f".{path.name}.tmp-")


def _owned_states(entry: dict[str, Any]) -> list[Hashes]:
    """The file sets that count as our unchanged copy: the last written, and the one it
    replaced while a replacement was in flight."""
    return [h for h in (entry.get("files"), entry.get("previous")) if isinstance(h, dict)]


def _locked(manifest_path: Path) -> contextlib.AbstractContextManager[None]:
    """One sync per target at a time (a lock file beside its manifest)."""
    return exclusive_lock(manifest_path.with_name(manifest_path.name + ".lock"))


# --- Fingerprint (the no-change fast path; the rows are stat_rows.py's) ---

_stat_row, _stat_tree = stat_row, stat_tree
_SECTIONS = ("source", "target")


def _listings(fingerprint: Any) -> dict[tuple[str, str], tuple[list[Any], list[str]]]:
    """Every folder a stored fingerprint walked (stat_rows.listings)."""
    return _all_listings(fingerprint, _SECTIONS)


def _fingerprint(
    source: Path,
    target: Path,
    owned: Iterable[str],
    exclude: frozenset[str] = frozenset(),
    last: Any = None,
) -> list[list[Any]] | None:
    """What the sync would read, by stat: the source's skill folders (hidden entries, .git
    included, only by name), every top-level entry of the target, and the files of the
    target folders the source or the manifest names; and the excluded names. None when a
    folder cannot be read. `last`, the stored fingerprint, spares listing unchanged folders."""
    cutoff = time.time_ns() - int(FRESH_SECONDS * 1e9)
    known = _listings(last)
    rows: list[list[Any]] = [["exclude", *sorted(exclude)]] if exclude else []
    try:
        with os.scandir(source) as entries:
            source_names = sorted(e.name for e in entries)
        with os.scandir(target) as entries:
            target_names = sorted(e.name for e in entries)
    except OSError:
        return None
    ours = set(owned)
    src, dst = str(source), str(target)
    for name in source_names:
        rows.append(["source", name])
        if name.startswith("."):
            continue
        if not _stat_tree(f"{src}/{name}", name, cutoff, rows, known, "source"):
            return None
    for name in target_names:
        rows.append(["target", name])
        deep = not name.startswith(".") and (name in ours or name in source_names)
        path = f"{dst}/{name}"
        if not (
            _stat_tree(path, name, cutoff, rows, known, "target")
            if deep
            else _stat_row(path, name, cutoff, rows)
        ):
            return None
    return rows


def _replay(
    manifest: dict[str, Any], fingerprint: list[list[Any]] | None, report: SyncReport
) -> bool:
    """Report the last complete sync again when nothing it read has changed since."""
    fast = manifest.get(FAST)
    if fingerprint is None or not isinstance(fast, dict) or fast.get("fingerprint") != fingerprint:
        return False
    if _fresh(fingerprint):
        return False
    last = fast.get("report") or {}
    report.unchanged.extend(last.get("unchanged") or [])
    for key in _REPLAYED:
        getattr(report, key).extend(last.get(key) or [])
    return True


def _groups(fingerprint: list[list[Any]]) -> dict[tuple[str, str], list[list[Any]]]:
    """A fingerprint's rows by the top-level entry they belong to: ("source" | "target", name)
    -> that entry's rows; ("exclude", "") -> the excluded names."""
    out: dict[tuple[str, str], list[list[Any]]] = {}
    rows: list[list[Any]] = []
    for row in fingerprint:
        if row and row[0] == "exclude" and not out and not rows:
            out[("exclude", "")] = [row]
        elif len(row) == 2 and row[0] in ("source", "target"):
            rows = out.setdefault((row[0], row[1]), [])
        else:
            rows.append(row)
    return out


def _settled(fast: Any, now: list[list[Any]] | None) -> set[str]:
    """The skills the last complete sync left in sync whose source folder and copy have not
    changed since (every file's stat the same): a sync after one skill changed hashes that
    skill, not all of them. Empty when either fingerprint is missing or the excluded names
    changed."""
    if now is None or not isinstance(fast, dict) or not isinstance(fast.get("fingerprint"), list):
        return set()
    report = fast.get("report")
    done = report.get("unchanged") if isinstance(report, dict) else None
    if not isinstance(done, list):
        return set()
    before, after = _groups(fast["fingerprint"]), _groups(now)
    if before.get(("exclude", "")) != after.get(("exclude", "")):
        return set()
    return {
        name
        for name in done
        if isinstance(name, str)
        and ("source", name) in after
        and ("target", name) in after
        and all(
            before.get((side, name)) == after[(side, name)] and not _fresh(after[(side, name)])
            for side in ("source", "target")
        )
    }


# --- Writing ---


def _rmtree(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        import shutil  # here: the no-change path removes nothing

        shutil.rmtree(path)


def _copy_skill(name: str, contents: Contents, tmp: Path) -> Hashes:
    """Copy the files into `tmp` (created here); the hashes of what was written. The copy is
    the user's, outside the data home: it gets the user's umask, not our owner-only one
    (an executable stays executable)."""
    tmp.mkdir()  # fails on a leftover: never mix into an old copy
    os.chmod(tmp, user_mode(0o777))
    hashes: Hashes = {}
    for rel, (data, mode) in contents.items():
        dst = tmp / rel
        user_mkdir(dst.parent)
        with open(dst, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(dst, user_mode(0o777 if mode & stat.S_IXUSR else 0o666))
        hashes[rel] = _sha256(data).hexdigest()
    return hashes


def _recover(target: Path, owned: set[str]) -> None:
    """Remove what an interrupted sync left: temp copies, deleted copies, and old copies whose
    replacement is in place; an old copy of ours whose replacement never landed goes back."""
    for entry in sorted(target.iterdir()):
        match = _LEFTOVER.match(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir():
            continue
        name, kind = match["name"], match["kind"]
        home = target / name
        if kind == "old" and name in owned and not os.path.lexists(home):
            os.rename(entry, home)
            continue
        _rmtree(entry)


def _place(target: Path, name: str, tmp: Path, replace: bool) -> None:
    """Rename `tmp` into `target/name`; with `replace`, the current copy is moved away first
    and deleted after."""
    final = target / name
    if not replace:
        os.rename(tmp, final)  # fails if something appeared meanwhile: never clobbered
        return
    old = target / f".{name}.acontext-old-{os.getpid()}"
    os.rename(final, old)
    try:
        os.rename(tmp, final)
    except OSError:
        os.rename(old, final)  # put the current copy back; the caller reports the error
        raise
    _rmtree(old)


def _withdraw(
    target: Path, name: str, owned: dict[str, dict[str, Any]], report: SyncReport
) -> None:
    """Take back our unchanged copy of a skill when it holds a secret itself: copied before
    the redactor knew that kind (an upgrade found it). A clean previous copy stays."""
    final = target / name
    if final.is_symlink() or not final.is_dir():
        return
    if _target_hashes(final) not in _owned_states(owned[name]):
        return  # edited by the user: theirs to fix
    held = False
    for rel, st in contained.walk(final):
        if st is not None and file_secrets(rel, (final / rel).read_bytes()):
            held = True
            break
    if held:
        _remove_copy(target, name, owned, report)


def _remove_copy(
    target: Path, name: str, owned: dict[str, dict[str, Any]], report: SyncReport
) -> None:
    """Take our copy of `name` out of `target` (renamed aside first, so a crash leaves no
    half-deleted skill), forget it in the manifest, and report it."""
    doomed = target / f".{name}.acontext-del-{os.getpid()}"
    try:
        os.rename(target / name, doomed)
        del owned[name]
        _rmtree(doomed)
    except OSError as exc:
        report.errors.append(f"{name}: {exc}")
        return
    report.removed.append(name)


def sync_skills(
    source_dir: Path,
    target_dir: Path,
    *,
    manifest_path: Path,
    exclude: frozenset[str] = frozenset(),
) -> SyncReport:
    """Copy every skill folder of `source_dir` into `target_dir`, as the module doc says.

    Per-skill file errors are reported and the rest continues; any other exception leaves
    the target consistent (no half-written skill) for the next sync to complete. Skills in
    `exclude` are treated as not in the source.
    """
    source_dir = Path(os.path.abspath(source_dir))
    target_dir = Path(os.path.abspath(target_dir))
    report = SyncReport(target=target_dir)
    src_real, dst_real = source_dir.resolve(), target_dir.resolve()
    if (
        src_real == dst_real
        or dst_real.is_relative_to(src_real)
        or src_real.is_relative_to(dst_real)
    ):
        report.errors.append(f"source {source_dir} and target overlap; nothing synced")
        return report
    try:
        user_mkdir(target_dir)
        with _locked(manifest_path):
            _sync_locked(source_dir, target_dir, manifest_path, report, exclude)
    except (OSError, ValueError) as exc:
        report.errors.append(str(exc))
    if report.errors:
        _log().warning("skill sync: %s", report.summary())
    return report


def _sync_locked(
    source: Path,
    target: Path,
    manifest_path: Path,
    report: SyncReport,
    exclude: frozenset[str] = frozenset(),
) -> None:
    busy = operation_in_progress(source)
    if busy is not None:  # half-merged files must not reach the agents; copies stay as they are
        report.errors.append(f"{busy}; then sync again. Nothing was synced")
        return
    manifest = _load_manifest(manifest_path, target)
    owned: dict[str, dict[str, Any]] = manifest["skills"]
    # A new redactor (an upgrade) judges every file once: no replay, no trusted copy.
    trusted = bool(scanner_version()) and manifest.get(SCANNER) == scanner_version()
    secret: set[str] = set()  # source skills left out for holding a secret
    last = manifest.get(FAST)
    stored = last.get("fingerprint") if isinstance(last, dict) else None
    now = _fingerprint(source, target, owned, exclude, stored) if trusted else None
    if now is not None and _replay(manifest, now, report):
        return
    settled = _settled(last, now)
    manifest[SCANNER] = scanner_version()  # what this sync copies or keeps, it scanned
    # Saved mid-sync, the manifest must not claim a fingerprint: a crash would leave it stale.
    manifest.pop(FAST, None)
    _recover(target, set(owned))
    pid = os.getpid()

    sources = _source_skills(source, report, exclude)
    for name, folder in sources.items():
        final = target / name
        entry = owned.get(name)
        if name in settled and entry is not None:
            report.unchanged.append(name)  # in sync last time, and nothing of it changed since
            continue
        exists = os.path.lexists(final)
        if exists and entry is None:
            report.clashes.append(name)
            continue
        scanned = (entry or {}).get("files") if trusted else None
        files = _source_files(folder, report.skipped)
        contents = _read_sources(folder, files, report.skipped, scanned or {}, secret)
        if contents is None:  # still a source skill: its copy is neither updated nor removed
            if name in secret and entry is not None and exists:
                _withdraw(target, name, owned, report)  # unless the copy holds the secret too
            continue
        current: Hashes | None = None
        if exists:
            if final.is_symlink() or not final.is_dir():
                report.modified_by_user.append(name)
                continue
            current = _target_hashes(final)
        wanted = {rel: _sha256(data).hexdigest() for rel, (data, _) in contents.items()}
        if current is not None:
            if current == wanted:
                owned[name] = {"files": current}
                report.unchanged.append(name)
                continue
            if current not in _owned_states(entry or {}):
                report.modified_by_user.append(name)
                continue
        tmp = target / f".{name}.acontext-tmp-{pid}"
        try:
            if os.path.lexists(tmp):
                _rmtree(tmp)
            written = _copy_skill(name, contents, tmp)
            # Record the new state (and the one it replaces) before the rename, so whatever
            # point a crash hits, the next sync recognises the copy as ours.
            owned[name] = {"files": written}
            if current is not None:
                owned[name]["previous"] = current
            _save_manifest(manifest_path, manifest)
            _place(target, name, tmp, replace=current is not None)
        except OSError as exc:
            report.errors.append(f"{name}: {exc}")
            with contextlib.suppress(OSError):
                if os.path.lexists(tmp):
                    _rmtree(tmp)
                # Not placed: claim nothing new (a folder that appeared meanwhile is not ours).
                if entry is None:
                    owned.pop(name, None)
                else:
                    owned[name] = entry
                _save_manifest(manifest_path, manifest)
            continue
        except BaseException:
            with contextlib.suppress(OSError):
                if os.path.lexists(tmp):
                    _rmtree(tmp)
            raise
        owned[name] = {"files": written}
        (report.updated if current is not None else report.written).append(name)

    for name in sorted(set(owned) - set(sources)):
        final = target / name
        if not os.path.lexists(final):
            del owned[name]
            continue
        if final.is_symlink() or not final.is_dir():
            report.modified_by_user.append(name)
            continue
        if _target_hashes(final) not in _owned_states(owned[name]):
            report.modified_by_user.append(name)
            continue
        _remove_copy(target, name, owned, report)

    fingerprint = None if report.errors else _fingerprint(source, target, owned, exclude, stored)
    if fingerprint is not None:
        done = sorted(report.unchanged + report.written + report.updated)
        last = {key: list(getattr(report, key)) for key in _REPLAYED}
        manifest[FAST] = {"fingerprint": fingerprint, "report": {"unchanged": done, **last}}
    _save_manifest(manifest_path, manifest)

"""Retirement: propose removing what no longer helps, never remove it unasked.

Three findings, each a proposal (skills/proposals.py) the user accepts or rejects like any
learned change, whatever `learning.accept` says:

- `unused`: a learned skill no agent used (skill_uses' active kinds: the host's Skill tool,
  reads of its files, MCP get/search hits, prompt injections; a brief's delivery is not a use)
  over `learning.retire_after_sessions` sessions (default 30; 0 turns this rule off) of its
  projects: the projects it was used in or learned from, every project when it has none. The
  count starts at the latest of its last use, its last change, and when usage tracking began.
- `failing`: sessions that used the skill ended in a verified failure clearly more often than
  comparable sessions (same projects, same period) that did not: at least MIN_SAMPLE sessions
  on each side, a failure rate higher by MARGIN or more, and a one-sided two-proportion z-test
  at Z_MIN (95%). A session's ending is its last verified task's outcome.
- `stale`: learned entries of a project runbook that name a file, make/npm/just target its
  project no longer has (skills/stale.py); the proposal removes those entry lines.
- `defaults` (not a retirement, made by the same pass): a shipped default skill whose SKILL.md
  is still an earlier release's text, untouched, is offered this release's text (its
  description names the work it helps with); an edited one is never touched.

Only learned skills retire: not the shipped defaults (daily-logs, user-general-facts,
project-runbooks) and not a skill a person wrote, i.e. one whose first commit is not a learning
(skills/history.py). A finding already waiting as a proposal is not proposed twice; a rejected
one restarts its clock at the rejection (another N unused sessions, a fresh sample of
sessions), and a rejected stale edit is not proposed again for the same references.

Runs from `acontext-mcp skills retire [--dry-run]` and after learning at most once a day
(`maybe_run`, from pipeline.after_learning).
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp import user_config
from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.store import skill_uses

log = logging.getLogger("acontext.learn")

KEY = "learning"  # config.json: {"learning": {"retire_after_sessions": 30}}
SETTING = "retire_after_sessions"
DEFAULT_AFTER_SESSIONS = 30
MIN_SAMPLE = 10  # sessions with a verified ending, on each side
MARGIN = 0.20  # failure rate with the skill at least this much above without it
Z_MIN = 1.645  # one-sided 95%
PASS_EVERY_S = 24 * 3600
STAMP = "retire-pass.stamp"
LOCK_WAIT_S = 10.0
KIND = "retirement"
TRAILER = "Acontext-Retire"
REASONS = ("unused", "failing", "stale", "defaults")


# --- the setting --------------------------------------------------------------------------------


def check_after(value: object) -> int:
    """The setting as an int >= 0, or InvalidInput saying what it takes."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        number = None
    else:
        try:
            number = int(value)
        except ValueError:
            number = None
    if number is None or number < 0:
        raise InvalidInput(
            f"learning.{SETTING} must be a whole number of sessions, 0 or more (got {value!r}): "
            "a learned skill unused over that many sessions of its projects is proposed for "
            "retirement; 0 turns that rule off"
        )
    return number


def configured(settings: Settings) -> tuple[int, str | None]:
    """(the setting in effect, a problem with the file's value or None). A value that cannot
    be used falls back to the default."""
    data, problem = user_config.read(settings)
    if problem:
        return DEFAULT_AFTER_SESSIONS, problem
    section = data.get(KEY)
    value = section.get(SETTING) if isinstance(section, dict) else None
    if value is None:
        return DEFAULT_AFTER_SESSIONS, None
    try:
        return check_after(value), None
    except InvalidInput as exc:
        return DEFAULT_AFTER_SESSIONS, f"{exc}; using {DEFAULT_AFTER_SESSIONS}"


def save_after(settings: Settings, value: object) -> int:
    """Set `learning.retire_after_sessions`, keeping the file's other entries."""
    chosen = check_after(value)
    user_config.update_entry(settings, KEY, SETTING, chosen)
    return chosen


# --- deciding -----------------------------------------------------------------------------------


@dataclass
class Finding:
    """One thing to retire: `files` are the repository paths the proposal changes (deleted
    for a skill; edited for a stale runbook, with `edit` its new text). `skipped` says why no
    proposal is made (one waits already, only a person's lines name it)."""

    reason: str
    skill: str
    subject: str
    why: str
    trailers: list[tuple[str, str]]
    files: list[str]
    details: dict[str, Any] = field(default_factory=dict)
    edit: str | None = None
    proposal: str | None = None
    skipped: str | None = None

    def marker(self) -> str:
        return self.trailers[0][1]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("edit")
        out["trailers"] = [f"{k}: {v}" for k, v in self.trailers]
        return out


def z_score(failed_a: int, n_a: int, failed_b: int, n_b: int) -> float:
    """Two-proportion z statistic (pooled) of rate a above rate b; 0 when undefined."""
    if not n_a or not n_b:
        return 0.0
    pooled = (failed_a + failed_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return 0.0 if spread == 0 else (failed_a / n_a - failed_b / n_b) / spread


def fails_clearly(rates: skill_uses.OutcomeRates) -> bool:
    """Whether sessions with the skill fail clearly more often than without it."""
    if rates.with_sessions < MIN_SAMPLE or rates.without_sessions < MIN_SAMPLE:
        return False
    assert rates.rate_with is not None and rates.rate_without is not None
    if rates.rate_with - rates.rate_without < MARGIN:
        return False
    z = z_score(rates.with_failed, rates.with_sessions, rates.without_failed,
                rates.without_sessions)  # fmt: skip
    return z >= Z_MIN


def _day(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(stamp)) if stamp else "never"


def _rate(failed: int, total: int) -> str:
    return f"{failed}/{total} = {failed / total:.2f}" if total else "0/0"


def _history_marks(settings: Settings) -> tuple[dict[str, str], dict[str, float], set[str]]:
    """(marker -> id of the proposal waiting with it, marker -> latest rejection time, markers
    whose proposal was accepted)."""
    from acontext_mcp.skills import proposals

    waiting: dict[str, str] = {}
    rejected: dict[str, float] = {}
    accepted: set[str] = set()
    for pid, state, values, when in proposals.marked(settings.skills_dir, TRAILER):
        for value in values:
            if state == "pending":
                waiting[value] = pid
            elif state == "rejected":
                rejected[value] = max(rejected.get(value, 0.0), when)
            else:
                accepted.add(value)
    return waiting, rejected, accepted


def _usage_findings(
    conn: sqlite3.Connection,
    settings: Settings,
    after: int,
    rejected: dict[str, float],
) -> list[Finding]:
    from acontext_mcp.skills import catalog, history
    from acontext_mcp.skills.defaults import DEFAULT_SKILLS

    started = skill_uses.tracking_started(conn)
    if started is None:
        return []
    histories = history.skill_histories(settings.skills_dir)
    out = []
    for skill in sorted(s["name"] for s in catalog.list_skills(settings.skills_dir)):
        past = histories.get(skill)
        if skill in DEFAULT_SKILLS or past is None or not past.learned:
            continue  # shipped, a person's, or not committed yet
        projects = skill_uses.skill_project_dirs(conn, skill, past.sessions) or None
        where = ", ".join(projects) if projects else "every project"
        uses = skill_uses.use_count(conn, skill)
        mark = f"unused {skill}"
        not_before = max(started, past.last_change, rejected.get(mark, 0.0))
        count, last = skill_uses.sessions_since_last_use(
            conn, skill, project_dirs=projects, not_before=not_before
        )
        details: dict[str, Any] = {
            "uses": uses,
            "last_used": last,
            "projects": projects or [],
            "sessions": count,
        }
        if after and count >= after:
            files = history.skill_files(settings.skills_dir, skill)  # one git: only when due
            if not files:
                continue
            since = max(not_before, last or 0.0)
            why = (
                f"No agent used {skill} (Skill tool, reads of its files, MCP get/search, prompt "
                f"injections) in the last {count} sessions of {where}, counted from "
                f"{_day(since)}; uses ever recorded: {uses}, last use: {_day(last)}. "
                f"learning.{SETTING} is {after}."
            )
            out.append(
                Finding(
                    "unused",
                    skill,
                    f"Retire {skill}: unused in {count} sessions",
                    why,
                    [
                        (TRAILER, mark),
                        ("Acontext-Uses", str(uses)),
                        ("Acontext-Sessions-Without-Use", str(count)),
                        ("Acontext-Last-Used", _day(last)),
                    ],
                    files,
                    details,
                )
            )
            continue
        mark = f"failing {skill}"
        since = max(started, rejected.get(mark, 0.0))
        rates = skill_uses.outcome_rates(conn, skill, project_dirs=projects, since=since)
        files = history.skill_files(settings.skills_dir, skill) if fails_clearly(rates) else []
        if not files:
            continue
        with_it = _rate(rates.with_failed, rates.with_sessions)
        without = _rate(rates.without_failed, rates.without_sessions)
        z = z_score(rates.with_failed, rates.with_sessions, rates.without_failed,
                    rates.without_sessions)  # fmt: skip
        why = (
            f"Sessions of {where} that used {skill} ended in a verified failure {with_it}, "
            f"comparable sessions without it {without} (since {_day(since)}; z = {z:.2f}, "
            f"at least {MIN_SAMPLE} sessions each side, margin {MARGIN:.2f})."
        )
        details |= {"fail_rate_with": with_it, "fail_rate_without": without, "z": round(z, 2)}
        pct = f"{rates.rate_with:.0%} vs {rates.rate_without:.0%}"
        out.append(
            Finding(
                "failing",
                skill,
                f"Retire {skill}: its sessions fail more often ({pct})",
                why,
                [
                    (TRAILER, mark),
                    ("Acontext-Uses", str(uses)),
                    ("Acontext-Fail-Rate-With", with_it),
                    ("Acontext-Fail-Rate-Without", without),
                ],
                files,
                details,
            )
        )
    return out


def stale_findings(conn: sqlite3.Connection | None, settings: Settings) -> list[Finding]:
    """Runbooks naming what their project no longer has; the edit removes the learned entry
    lines that name it (a person's lines are reported, never changed)."""
    from acontext_mcp.skills import stale

    dirs = skill_uses.known_project_dirs(conn) if conn is not None else []
    out = []
    for book in stale.runbooks(settings.skills_dir, dirs):
        if book.project is None or not Path(book.project).is_dir():
            continue  # unknown, or on another machine: nothing to compare with
        path = f"{book.skill}/{book.path}"
        text = book.text
        found = stale.stale_refs(text, Path(book.project))
        if not found:
            continue
        refs = list(dict.fromkeys(f.ref for f in found))
        drop = {f.line for f in found if f.entry}
        kept = [ln for i, ln in enumerate(text.splitlines(), 1) if i not in drop]
        why = "; ".join(dict.fromkeys(f.why for f in found)) + "."
        count = len(drop)
        finding = Finding(
            "stale",
            book.skill,
            f"Remove {count} stale entr{'y' if count == 1 else 'ies'} from {path}",
            why,
            [
                (TRAILER, f"stale {path} | " + " | ".join(refs)),
                *(("Acontext-Stale", r) for r in refs),
            ],
            [path] if drop else [],
            {"file": path, "project": book.project, "refs": [f.to_dict() for f in found]},
            edit="\n".join(kept) + "\n" if drop else None,
        )
        if not drop:
            finding.skipped = (
                f"only lines a person wrote name them: edit {settings.skills_dir / path}"
            )
        out.append(finding)
    return out


def default_findings(settings: Settings) -> list[Finding]:
    """Default skills still holding an earlier release's SKILL.md, untouched: the current
    text (descriptions that trigger on the work, not only on "memory") as an edit."""
    import hashlib

    from acontext_mcp.skills.defaults import DEFAULT_SKILLS, outdated_defaults

    out = []
    for name in outdated_defaults(settings.skills_dir):
        text = DEFAULT_SKILLS[name]
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        why = (
            f"{name}/SKILL.md is the untouched default an earlier release wrote; this "
            "release's description names the work it helps with (installing packages, "
            "formatting, running tests, what was done when), so agents invoke it then, not "
            "only on 'read/edit user memory'."
        )
        out.append(
            Finding(
                "defaults",
                name,
                f"Update {name}'s description to this release's default",
                why,
                [(TRAILER, f"defaults {name} {version}")],
                [f"{name}/SKILL.md"],
                {"version": version},
                edit=text,
            )
        )
    return out


def review(conn: sqlite3.Connection, settings: Settings) -> list[Finding]:
    """Every finding, with `skipped` set on those not to propose; nothing is written."""
    after, problem = configured(settings)
    if problem:
        log.warning("retirement: %s", problem)
    waiting, rejected, _accepted = _history_marks(settings)
    found = _usage_findings(conn, settings, after, rejected) + stale_findings(conn, settings)
    found += default_findings(settings)
    for finding in found:
        mark = finding.marker()
        if finding.skipped:
            continue
        if mark in waiting:
            finding.skipped = f"proposal {waiting[mark]} waits for review"
        elif finding.reason in ("stale", "defaults") and mark in rejected:
            finding.skipped = "rejected before for the same " + (
                "references" if finding.reason == "stale" else "text"
            )
    return found


# --- proposing ----------------------------------------------------------------------------------


def _message(finding: Finding) -> str:
    if finding.reason == "defaults":
        after = "Accept to use the new text; reject to keep the old (not proposed again)."
    elif finding.reason == "stale":
        after = (
            "Accept to remove those entries; reject to keep them (not proposed again for the "
            "same references)."
        )
    else:
        after = (
            "Accept to delete the skill's folder (git keeps it: `acontext-mcp skills revert "
            "COMMIT` brings it back); reject to keep it (its clock starts again)."
        )
    return f"{finding.subject}\n\n{finding.why}\n\n{after}"


def _propose(settings: Settings, finding: Finding) -> str:
    from acontext_mcp.skills import proposals

    head, texts = proposals.head_files(settings.skills_dir, finding.files)
    if finding.edit is not None:
        files: dict[str, str | None] = {finding.files[0]: finding.edit}
        if texts.get(finding.files[0]) is None:
            raise InvalidInput(f"{finding.files[0]} is not committed; nothing proposed")
    else:
        files = {path: None for path in finding.files}
    made = proposals.create(
        settings.skills_dir,
        _message(finding),
        files,
        parent=head,
        session_ids=[],
        task_ids=[],
        kind=KIND,
        trailers=[f"{k}: {v}" for k, v in finding.trailers],
    )
    return made.id


def run(conn: sqlite3.Connection, settings: Settings, *, dry_run: bool = False) -> dict[str, Any]:
    """Review, then (unless `dry_run`) make a proposal of each finding not skipped. Proposing
    holds the learner lock and reviews again under it (a learner run must not commit between
    reading HEAD and proposing); with nothing to propose, nothing is locked or committed."""
    from acontext_mcp.skills import repo
    from acontext_mcp.skills.defaults import prepare

    prepare(settings)
    after, problem = configured(settings)
    out: dict[str, Any] = {"retire_after_sessions": after, "dry_run": dry_run}
    if problem:
        out["problem"] = problem
    findings = review(conn, settings)
    if not dry_run and any(not f.skipped for f in findings):
        with repo.learner_lock(settings.skills_dir, timeout=LOCK_WAIT_S):
            repo.protect_user_edits(settings.skills_dir)
            repo.check_ready(settings.skills_dir)
            findings = review(conn, settings)
            for finding in findings:
                if finding.skipped:
                    continue
                try:
                    finding.proposal = _propose(settings, finding)
                except InvalidInput as exc:
                    finding.skipped = str(exc)
    out["findings"] = [f.to_dict() for f in findings]
    out["proposed"] = [f.proposal for f in findings if f.proposal]
    return out


def maybe_run(settings: Settings, *, now: float | None = None) -> dict[str, Any] | None:
    """The pass after learning, at most once per PASS_EVERY_S (a stamp file in the data
    home); None when it is not due. The stamp moves first: a failing pass waits a day too."""
    from acontext_mcp.store.db import open_db

    stamp = settings.home / STAMP
    moment = time.time() if now is None else now
    try:
        if moment - stamp.stat().st_mtime < PASS_EVERY_S:
            return None
    except FileNotFoundError:
        pass
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    os.utime(stamp, (moment, moment))
    conn = open_db(settings)
    try:
        done = run(conn, settings)
    finally:
        conn.close()
    return {"proposed": done["proposed"]}

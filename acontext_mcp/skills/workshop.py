"""Proposals for OpenClaw go through its Skill Workshop, so OpenClaw's own review applies.

A learned change the review policy did not accept is a proposal (a `proposals/<id>` branch of
the skills repository, skills/proposals.py). Where the OpenClaw we sync into has Skill
Workshop (2026.6.1+), `reconcile` hands each pending proposal to it through its CLI:
`openclaw skills workshop propose-create` for a skill the Workshop does not hold yet,
`propose-update` for one it does. OpenClaw keeps it as a pending `PROPOSAL.md`; the user
applies or rejects it there (chat, CLI or Control UI) and OpenClaw's scanner, approval and
rollback apply. Our side follows on the next reconcile:

- applied in OpenClaw -> our proposal is accepted (merged into the skills repository);
- rejected in OpenClaw -> our proposal is rejected with OpenClaw's reason;
- accepted / rejected with `acontext-mcp skills accept|reject` -> the Workshop proposal is
  applied / rejected too (`follow_decision`, or the next reconcile); when the Workshop
  refuses, it is left there and reported;
- a proposal that changes again (rebased or re-learned) revises its Workshop proposal; one
  that goes stale on our side is withdrawn (rejected in the Workshop with that reason); one
  the Workshop marks stale, or lost, is proposed again: never two live copies of one version.

A skill applied through the Workshop lives in OpenClaw's Workshop folder
(`<state>/agents/<agent>/agent/workshop-skills/<name>`); from then on it is *handed over*:
skills/sync.py stops copying it into OpenClaw's shared `<state>/skills` (that folder outranks
the Workshop's, so our copy would hide the Workshop's and its rollback), and later accepted
changes of it reach OpenClaw as Workshop updates that we apply ourselves (`propose-update` +
`apply`: the change already passed our review; OpenClaw still scans it and keeps rollback).

What was submitted is remembered in `<home>/workshop.json` (written atomically), per OpenClaw
state dir and proposal version, so nothing is submitted twice. Detecting the Workshop costs one
`openclaw --version`, cached there until the executable changes; a reconcile with no proposal
and nothing handed over runs no `openclaw` at all. Never called from a hook: each `openclaw`
call takes seconds. The hooks' sync reads only the hand-overs (skills/handover.py).

Failures (no `openclaw`, a non-zero exit, output that is not the JSON we expect) are reported
in the WorkshopReport and logged; the proposal stays pending for `acontext-mcp skills accept`,
nothing in the state file is lost, and the sync goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from acontext_mcp.config import Settings, openclaw_state_dir
from acontext_mcp.errors import AcontextError
from acontext_mcp.fsio import exclusive_lock, replace_file
from acontext_mcp.privacy.redact import redact_text
from acontext_mcp.skills import SKILL_FILE
from acontext_mcp.skills.handover import STATE_FILE, state_path
from acontext_mcp.text import one_line

log = logging.getLogger(__name__)

STATE_VERSION = 1
MIN_VERSION = (2026, 6, 1)  # the first OpenClaw release with Skill Workshop
PROPOSAL_FILE = "PROPOSAL.md"  # what the Workshop calls a pending SKILL.md
# The Workshop takes support files only under these folders, up to eight path components.
SUPPORT_DIRS = frozenset({"assets", "examples", "references", "scripts", "templates"})
MAX_DEPTH = 8
MAX_DESCRIPTION_BYTES = 160
PROBE_TIMEOUT = 30.0
CALL_TIMEOUT = 180.0
_VERSION = re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,3})")
OPEN, APPLIED, REJECTED, STALE, QUARANTINED = (
    "pending",
    "applied",
    "rejected",
    "stale",
    "quarantined",
)
MISSING = "missing"  # not in the Workshop's list nor found by inspect


class WorkshopError(AcontextError):
    """An `openclaw skills workshop` call failed; the message says which and what to do."""


class Unsupported(AcontextError):
    """A proposal the Workshop cannot take as it is (it waits for `acontext-mcp skills accept`)."""


# --- The proposals API (skills/proposals.py) this module follows ---


class ProposalLike(Protocol):
    """The fields of skills.proposals.Proposal used here."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def skills(self) -> Sequence[str]: ...


class ProposalsAPI(Protocol):
    """skills.proposals (the module itself satisfies this)."""

    def list_proposals(
        self, root: Path, states: tuple[str, ...] = ("pending", "stale")
    ) -> Sequence[ProposalLike]: ...
    def proposal_files(self, root: Path, proposal_id: str) -> Mapping[str, str | None]: ...
    def accept(self, root: Path, proposal_id: str) -> str: ...
    def reject(self, root: Path, proposal_id: str, reason: str | None = None) -> None: ...


# --- Report ---


@dataclass
class WorkshopReport:
    """What one reconcile did. `unavailable`: why proposals were not handed to the Workshop
    (they wait for `acontext-mcp skills accept`); lists hold short lines naming the proposal."""

    unavailable: str | None = None
    submitted: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # ours, because OpenClaw applied it
    rejected: list[str] = field(default_factory=list)  # ours, because OpenClaw rejected it
    applied: list[str] = field(default_factory=list)  # in OpenClaw, because we accepted it
    dismissed: list[str] = field(default_factory=list)  # in OpenClaw, because we rejected it
    delivered: list[str] = field(default_factory=list)  # accepted changes of handed-over skills
    waiting: list[str] = field(default_factory=list)  # left as they are, and why
    errors: list[str] = field(default_factory=list)

    _KEYS = (
        "submitted",
        "revised",
        "withdrawn",
        "accepted",
        "rejected",
        "applied",
        "dismissed",
        "delivered",
        "waiting",
        "errors",
    )

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unavailable": self.unavailable}
        out.update({key: list(getattr(self, key)) for key in self._KEYS})
        return out

    def summary(self) -> str:
        if self.unavailable:
            return f"OpenClaw Skill Workshop: not used ({self.unavailable})"
        parts = [
            f"{key} {'; '.join(getattr(self, key))}" for key in self._KEYS if getattr(self, key)
        ]
        return "OpenClaw Skill Workshop: " + (" | ".join(parts) or "nothing to do")


# --- The state file ---


def _empty() -> dict[str, Any]:
    return {"version": STATE_VERSION, "probe": {}, "openclaw": {}}


def _load(settings: Settings) -> dict[str, Any]:
    """The state file; a missing one is empty. A broken one is refused (its records are what
    keep proposals from being submitted twice): the error says how to start over."""
    path = state_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _empty()
    except (OSError, ValueError) as exc:
        raise WorkshopError(
            f"{path} cannot be read ({exc}); move it away to start over (Workshop proposals "
            "already submitted are then proposed again)"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("openclaw"), dict):
        raise WorkshopError(f"{path} is not a Workshop state file; move it away to start over")
    data.setdefault("probe", {})
    return data


def _save(settings: Settings, data: dict[str, Any]) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    replace_file(path, text.encode("utf-8"), prefix=f".{path.name}.tmp-")


def _locked(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """One reconcile of the Workshop state at a time."""
    return exclusive_lock(settings.home / f"{STATE_FILE}.lock")


def _side(data: dict[str, Any], state_dir: Path) -> dict[str, Any]:
    """The records for one OpenClaw state dir: {"proposals": {...}, "handed_over": {...}}."""
    side = data["openclaw"].setdefault(str(state_dir), {})
    side.setdefault("proposals", {})
    side.setdefault("handed_over", {})
    return side


# --- Finding and calling the Workshop ---


@dataclass(frozen=True)
class Workshop:
    """One OpenClaw with Skill Workshop: how to call it. Runs in the data home (no project
    directory, so OpenClaw does not infer an agent from it); `agent` picks one explicitly."""

    command: tuple[str, ...]
    version: str
    cwd: Path
    agent: str | None = None
    timeout: float = CALL_TIMEOUT

    def call(self, action: str, *args: str) -> dict[str, Any]:
        """`openclaw skills workshop <action> ... --json`, its JSON answer."""
        argv = [*self.command, "skills", "workshop", action, *args, "--json"]
        if self.agent:
            argv += ["--agent", self.agent]
        where = f"`openclaw skills workshop {action}`"
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
            )
        except subprocess.TimeoutExpired as exc:
            raise WorkshopError(f"{where} took over {self.timeout:.0f} s; stopped") from exc
        except OSError as exc:
            raise WorkshopError(
                f"{where} could not run ({exc}); set `openclaw.command` in config.json to the "
                "openclaw executable, or `openclaw.workshop: false` to stop using the Workshop"
            ) from exc
        answer = _json_answer(proc.stdout)
        if proc.returncode != 0:
            error = answer.get("error") if isinstance(answer, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            if not isinstance(message, str):
                lines = [x for x in proc.stderr.splitlines() if x.strip()]
                message = lines[-1] if lines else "no message"
            raise WorkshopError(
                f"{where} failed (exit {proc.returncode}): {one_line(message, 400)}"
            )
        if not isinstance(answer, dict):
            raise WorkshopError(
                f"{where} printed no JSON answer ({one_line(proc.stdout, 200) or 'nothing'}); "
                "is `openclaw.command` an OpenClaw with Skill Workshop?"
            )
        return answer


def _json_answer(stdout: str) -> Any:
    """The JSON object on stdout (from the first line that opens one), or None."""
    text = stdout.strip()
    for start in [0] + [m.start() + 1 for m in re.finditer(r"\n\{", text)]:
        with contextlib.suppress(ValueError):
            return json.loads(text[start:])
    return None


def _options(settings: Settings) -> dict[str, Any]:
    from acontext_mcp.user_config import load

    found = load(settings).get("openclaw")
    return found if isinstance(found, dict) else {}


def _command(options: dict[str, Any]) -> tuple[str, ...] | str:
    """The openclaw command (argv prefix), or why there is none."""
    given = options.get("command")
    if isinstance(given, str) and given.strip():
        return (given,)
    if isinstance(given, list) and given and all(isinstance(x, str) and x for x in given):
        return tuple(given)
    if given is not None:
        return "`openclaw.command` in config.json must be a path or a list of strings"
    found = shutil.which("openclaw")
    return (found,) if found else "no `openclaw` on PATH (or set `openclaw.command` in config.json)"


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`OpenClaw 2026.9.6 (eb377ac)` -> (2026, 9, 6)."""
    found = _VERSION.search(text)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def _probe(command: tuple[str, ...], cache: dict[str, Any]) -> str:
    """OpenClaw's version; `openclaw --version` runs only when the executable changed since
    the cached answer."""
    exe = shutil.which(command[0]) or command[0]
    try:
        st = os.stat(exe)
    except OSError as exc:
        raise WorkshopError(f"{command[0]} cannot be run: {exc}") from exc
    key = [list(command), os.path.realpath(exe), st.st_size, st.st_mtime_ns]
    if cache.get("key") == key and isinstance(cache.get("version"), str):
        return str(cache["version"])
    try:
        proc = subprocess.run(
            [*command, "--version"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkshopError(f"`{command[0]} --version` failed: {exc}") from exc
    found = parse_version(proc.stdout) if proc.returncode == 0 else None
    if found is None:
        said = one_line(proc.stdout + proc.stderr, 200) or "nothing"
        raise WorkshopError(
            f"`{command[0]} --version` exited {proc.returncode} and said {said!r}, not an "
            "OpenClaw version; set `openclaw.command` in config.json to the openclaw executable"
        )
    version = ".".join(map(str, found))
    cache.clear()
    cache.update({"key": key, "version": version, "checked_at": _now()})
    return version


def _detect(settings: Settings, data: dict[str, Any]) -> Workshop | str:
    """The Workshop to use, or why none (the proposals then wait for our own accept)."""
    options = _options(settings)
    if options.get("workshop") is False:
        return "turned off: `openclaw.workshop` is false in config.json"
    command = _command(options)
    if isinstance(command, str):
        return command
    try:
        version = _probe(command, data["probe"])
    except WorkshopError as exc:
        return str(exc)
    parsed = parse_version(version)
    if parsed is None or parsed < MIN_VERSION:
        need = ".".join(map(str, MIN_VERSION))
        return f"OpenClaw {version} has no Skill Workshop ({need} or newer has)"
    agent = options.get("agent")
    return Workshop(
        command=command,
        version=version,
        cwd=settings.home,
        agent=agent if isinstance(agent, str) and agent else None,
    )


def detect(settings: Settings) -> Workshop | str:
    """The Workshop of the OpenClaw we sync into, or why it is not used; the version probe is
    cached in the state file."""
    if not openclaw_state_dir().is_dir():
        return "OpenClaw is not set up here (no state dir), so nothing is synced into it"
    with _locked(settings):
        data = _load(settings)
        found = _detect(settings, data)
        _save(settings, data)
    return found


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- What a proposal looks like to the Workshop ---


Bundle = dict[str, str]  # path inside the skill folder -> text


def _digest(bundle: Bundle) -> str:
    digest = hashlib.sha256()
    for rel in sorted(bundle):
        digest.update(rel.encode() + b"\0" + bundle[rel].encode() + b"\0")
    return digest.hexdigest()[:32]


def _current(skills_dir: Path, skill: str) -> Bundle:
    """The skill's files in the skills directory now: read through skills/contained.py (no
    link followed, hidden entries left out). Unsupported for a file that is not UTF-8 text."""
    from acontext_mcp.skills import contained

    folder = skills_dir / skill
    out: Bundle = {}
    if folder.is_symlink() or not (folder / SKILL_FILE).is_file():
        return out
    for rel, st in contained.walk(folder):
        if st is None:
            raise Unsupported(f"{skill}/{rel}: a link or special file, which is never copied")
        data = contained.read_bytes(skills_dir, f"{skill}/{rel}")
        try:
            out[rel] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unsupported(
                f"{skill}/{rel}: not UTF-8 text, which Skill Workshop refuses"
            ) from exc
    return out


def _check(skill: str, bundle: Bundle) -> None:
    """Raise Unsupported when the Workshop would refuse this skill folder."""
    if SKILL_FILE not in bundle:
        raise Unsupported(f"{skill}: the skill is removed, which Skill Workshop cannot propose")
    for rel in bundle:
        parts = rel.split("/")
        if rel == SKILL_FILE:
            continue
        if parts[0] not in SUPPORT_DIRS or len(parts) < 2:
            raise Unsupported(
                f"{skill}/{rel}: Skill Workshop takes support files only under "
                f"{', '.join(sorted(SUPPORT_DIRS))}/"
            )
        if len(parts) > MAX_DEPTH:
            raise Unsupported(f"{skill}/{rel}: nested deeper than Skill Workshop allows")
        if "\0" in bundle[rel]:
            raise Unsupported(f"{skill}/{rel}: not a text file")
    for rel, text in bundle.items():
        found = redact_text(text)[1]
        if found:  # never hand what looks like a secret to another program
            kinds = ", ".join(sorted(found))
            log.warning("workshop: %s/%s holds what looks like a secret (%s)", skill, rel, kinds)
            raise Unsupported(
                f"{skill}/{rel} holds what looks like a secret ({kinds}); not proposed to "
                "OpenClaw: remove it from the proposal"
            )


def bundles(
    skills_dir: Path, skills: Sequence[str], files: Mapping[str, str | None]
) -> dict[str, Bundle]:
    """Each skill the proposal changes, as it would be after the proposal: its files in the
    skills directory with the proposal's changes (`<skill>/<path>` -> text, None: deleted)."""
    out: dict[str, Bundle] = {}
    names = list(dict.fromkeys([*skills, *(p.split("/", 1)[0] for p in files)]))
    for skill in names:
        bundle = _current(skills_dir, skill)
        prefix = f"{skill}/"
        for path, text in files.items():
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix) :]
            if text is None:
                bundle.pop(rel, None)
            else:
                bundle[rel] = text
        _check(skill, bundle)
        out[skill] = bundle
    return out


def _write_draft(folder: Path, bundle: Bundle) -> None:
    """The Workshop's proposal directory: SKILL.md as PROPOSAL.md, support files beside."""
    for rel, text in bundle.items():
        dst = folder / (PROPOSAL_FILE if rel == SKILL_FILE else rel)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text, encoding="utf-8")
        os.chmod(dst, 0o644)  # the Workshop refuses executable files


def _description(subject: str) -> str:
    """At most MAX_DESCRIPTION_BYTES of UTF-8, on one line, nothing secret."""
    safe, limit = redact_text(subject)[0], MAX_DESCRIPTION_BYTES
    text = one_line(safe, limit)
    while len(text.encode("utf-8")) > MAX_DESCRIPTION_BYTES:  # multi-byte characters
        limit -= 8
        text = one_line(safe, limit)
    return text or "Learned by acontext-mcp"


# --- Reconcile ---


@dataclass
class _Run:
    """One reconcile's working set."""

    settings: Settings
    api: ProposalsAPI | None
    ws: Workshop
    data: dict[str, Any]
    side: dict[str, Any]
    report: WorkshopReport
    listing: dict[str, dict[str, Any]] | None = None

    @property
    def root(self) -> Path:
        return self.settings.skills_dir

    def save(self) -> None:
        _save(self.settings, self.data)

    def status(self, workshop_id: str) -> tuple[str, dict[str, Any]]:
        """A Workshop proposal's status (one `list` per reconcile; `inspect` for one it does
        not list)."""
        if self.listing is None:
            answer = self.ws.call("list")
            entries = answer.get("proposals")
            if not isinstance(entries, list):
                raise WorkshopError("`openclaw skills workshop list` answered without proposals")
            self.listing = {str(e["id"]): e for e in entries if isinstance(e, dict) and "id" in e}
        entry = self.listing.get(workshop_id)
        if entry is None:
            try:
                record = self.ws.call("inspect", workshop_id).get("record")
            except WorkshopError as exc:
                log.info("workshop proposal %s not found: %s", workshop_id, exc)
                return MISSING, {}
            entry = record if isinstance(record, dict) else {}
            self.listing[workshop_id] = entry
        return str(entry.get("status") or MISSING), entry


def reconcile(settings: Settings, api: ProposalsAPI) -> WorkshopReport:
    """Bring our proposals and the Workshop's into line, as the module doc says. Never raises
    for a Workshop problem: it is in the report, and the caller's sync goes on."""
    report = WorkshopReport()
    state_dir = openclaw_state_dir()
    if not state_dir.is_dir():
        report.unavailable = "OpenClaw is not set up here (no state dir)"
        return report
    try:
        with _locked(settings):
            data = _load(settings)
            found = _detect(settings, data)
            if isinstance(found, str):
                report.unavailable = found
                _save(settings, data)
                return report
            run = _Run(settings, api, found, data, _side(data, state_dir), report)
            _reconcile(run)
            run.save()
    except (WorkshopError, OSError) as exc:
        report.errors.append(str(exc))
    except Exception as exc:  # the proposals API failed: the sync after it still runs
        log.exception("workshop reconcile failed")
        report.errors.append(f"{type(exc).__name__}: {exc}")
    if report.errors:
        log.warning("%s", report.summary())
    return report


def _reconcile(run: _Run) -> None:
    assert run.api is not None
    ours = {p.id: p for p in run.api.list_proposals(run.root, states=("pending", "stale"))}
    records: dict[str, Any] = run.side["proposals"]
    followed = set(records)
    for pid in list(records):
        try:
            _follow(run, pid, records[pid], ours.get(pid))
        except (WorkshopError, AcontextError, OSError) as exc:
            run.report.errors.append(f"{pid}: {exc}")
        except Exception as exc:  # one proposal's failure must not hold up the others
            log.exception("workshop: following %s failed", pid)
            run.report.errors.append(f"{pid}: {type(exc).__name__}: {exc}")
        run.save()
    settled = set(ours) & (followed - set(records))  # decided just now, in the Workshop
    for proposal in ours.values():
        if proposal.state != "pending" or proposal.id in settled:
            continue
        try:
            _submit(run, proposal)
        except Unsupported as exc:
            run.report.waiting.append(f"{proposal.id}: {exc}; accept it with acontext-mcp")
        except (WorkshopError, AcontextError, OSError) as exc:
            run.report.errors.append(f"{proposal.id}: {exc}")
        except Exception as exc:
            log.exception("workshop: submitting %s failed", proposal.id)
            run.report.errors.append(f"{proposal.id}: {type(exc).__name__}: {exc}")
        run.save()
    _deliver(run)


def _decision(run: _Run, pid: str) -> str | None:
    """How our side settled a proposal no longer pending: "accepted", "rejected", or None."""
    assert run.api is not None
    for proposal in run.api.list_proposals(run.root, states=("accepted", "rejected")):
        if proposal.id == pid:
            return proposal.state
    return None


def _hand_over(
    run: _Run, skill: str, workshop_id: str, entry: dict[str, Any], version: str
) -> None:
    """Record that the Workshop holds `skill` for us now, and where (`list` does not say:
    then `inspect` does)."""
    target = entry.get("target")
    if not isinstance(target, dict):
        with contextlib.suppress(WorkshopError):
            record = run.ws.call("inspect", workshop_id).get("record")
            target = record.get("target") if isinstance(record, dict) else None
    skill_dir = target.get("skillDir") if isinstance(target, dict) else None
    run.side["handed_over"][skill] = {
        "proposal": workshop_id,
        "version": version,
        "skill_dir": skill_dir if isinstance(skill_dir, str) else None,
        "at": _now(),
    }


def _follow(run: _Run, pid: str, record: dict[str, Any], mine: ProposalLike | None) -> None:
    """One submitted proposal: follow whichever side decided."""
    subs: dict[str, dict[str, Any]] = record.setdefault("skills", {})
    statuses = {skill: run.status(sub["id"]) for skill, sub in subs.items()}
    if mine is None:  # decided with our CLI (or gone): the Workshop follows
        decision = record.get("decided") or _decision(run, pid)
        record["decided"] = decision or "withdrawn"
        left = False
        for skill, sub in subs.items():
            status, entry = statuses[skill]
            if status == APPLIED and decision == "accepted":
                _hand_over(run, skill, sub["id"], entry, sub["version"])
            if status != OPEN:
                if status != APPLIED:
                    run.report.waiting.append(
                        f"{pid}: {skill} was already {status} in the Workshop"
                    )
                continue
            try:
                if decision == "accepted":
                    answer = run.ws.call("apply", sub["id"])
                    record_ = (
                        answer.get("record") if isinstance(answer.get("record"), dict) else entry
                    )
                    _hand_over(run, skill, sub["id"], record_ or entry, sub["version"])
                    run.report.applied.append(f"{pid}: {skill} ({sub['id']})")
                else:
                    why = (
                        f"rejected in acontext-mcp: {record['reason']}"
                        if decision == "rejected" and record.get("reason")
                        else "rejected in acontext-mcp"
                        if decision == "rejected"
                        else "withdrawn: the acontext-mcp proposal is gone"
                    )
                    run.ws.call("reject", sub["id"], "--reason", why)
                    run.report.dismissed.append(f"{pid}: {skill} ({sub['id']})")
            except WorkshopError as exc:
                left = True
                run.report.waiting.append(f"{pid}: {skill} left in the Workshop: {exc}")
        if not left:
            del run.side["proposals"][pid]
        return
    assert run.api is not None
    if statuses and all(s == APPLIED for s, _ in statuses.values()):
        sha = run.api.accept(run.root, pid)
        for skill, sub in subs.items():
            _hand_over(run, skill, sub["id"], statuses[skill][1], sub["version"])
        run.report.accepted.append(f"{pid}: applied in OpenClaw, accepted as {sha[:12]}")
        del run.side["proposals"][pid]
        return
    refused = [(skill, e) for skill, (s, e) in statuses.items() if s in (REJECTED,)]
    if refused:
        skill, entry = refused[0]
        said = entry.get("statusReason") or _reason(run, subs[skill]["id"])
        reason = f"rejected in OpenClaw Skill Workshop ({subs[skill]['id']})" + (
            f": {said}" if isinstance(said, str) and said else ""
        )
        run.api.reject(run.root, pid, reason=reason)
        for other, sub in subs.items():
            if statuses[other][0] == OPEN:
                run.ws.call("reject", sub["id"], "--reason", f"withdrawn: {reason}")
        run.report.rejected.append(f"{pid}: {reason}")
        del run.side["proposals"][pid]
        return
    if mine.state != "pending":  # stale on our side: re-learned or rebased later
        for skill, sub in subs.items():
            if statuses[skill][0] == OPEN:
                why = "withdrawn: the skill changed in acontext-mcp; it is proposed again"
                run.ws.call("reject", sub["id"], "--reason", why)
        run.report.withdrawn.append(f"{pid}: stale in acontext-mcp")
        del run.side["proposals"][pid]
        return
    for skill, (status, _) in statuses.items():
        if status in (STALE, MISSING):  # proposed again by _submit
            subs.pop(skill)
            run.report.waiting.append(
                f"{pid}: {skill} was {status} in the Workshop; proposed again"
            )
        elif status == QUARANTINED:
            run.report.waiting.append(f"{pid}: {skill} is quarantined in the Workshop")


def _reason(run: _Run, workshop_id: str) -> str | None:
    """The reason a Workshop proposal was rejected with (`list` leaves it out)."""
    try:
        record = run.ws.call("inspect", workshop_id).get("record")
    except WorkshopError:
        return None
    said = record.get("statusReason") if isinstance(record, dict) else None
    return said if isinstance(said, str) else None


def _submit(run: _Run, proposal: ProposalLike) -> None:
    """Propose (or revise) each skill of a pending proposal whose version is not there yet."""
    assert run.api is not None
    record = run.side["proposals"].get(proposal.id)
    if record is not None and record.get("decided"):
        return
    files = run.api.proposal_files(run.root, proposal.id)
    wanted = bundles(run.root, list(proposal.skills), files)
    record = run.side["proposals"].setdefault(proposal.id, {"skills": {}})
    subs: dict[str, dict[str, Any]] = record["skills"]
    evidence = f"acontext-mcp proposal {proposal.id}: {redact_text(proposal.subject)[0]}"
    for skill, bundle in wanted.items():
        version = _digest(bundle)
        sub = subs.get(skill)
        if sub is not None and sub.get("version") == version:
            continue
        with tempfile.TemporaryDirectory(prefix="acontext-workshop-") as tmp:
            draft = Path(tmp) / skill
            _write_draft(draft, bundle)
            common = ["--proposal-dir", str(draft), "--evidence", one_line(evidence, 500)]
            if sub is not None and run.status(sub["id"])[0] == OPEN:
                run.ws.call("revise", sub["id"], *common)
                sub["version"] = version
                run.report.revised.append(f"{proposal.id}: {skill} ({sub['id']})")
                run.save()
                continue
            kind, args = _kind(run, skill, proposal.subject)
            answer = run.ws.call(kind, *args, *common)
        record_ = answer.get("record")
        if not isinstance(record_, dict) or not isinstance(record_.get("id"), str):
            raise WorkshopError(f"`openclaw skills workshop {kind}` answered without a proposal id")
        subs[skill] = {"id": record_["id"], "kind": kind, "version": version, "at": _now()}
        run.save()  # at once: a crash now must not submit it a second time
        run.report.submitted.append(f"{proposal.id}: {skill} -> {record_['id']} ({kind})")


def _held_live(held: dict[str, Any]) -> bool:
    """Whether the Workshop still has a handed-over skill (its folder, when we know it)."""
    skill_dir = held.get("skill_dir")
    return not isinstance(skill_dir, str) or (Path(skill_dir) / SKILL_FILE).is_file()


def _kind(run: _Run, skill: str, subject: str) -> tuple[str, list[str]]:
    """propose-update for a skill the Workshop holds for us, else propose-create."""
    held = run.side["handed_over"].get(skill)
    if isinstance(held, dict) and _held_live(held):
        return "propose-update", [skill, "--description", _description(subject)]
    return "propose-create", ["--name", skill, "--description", _description(subject)]


def _deliver(run: _Run) -> None:
    """Accepted changes of a handed-over skill (learned without a proposal, or merged some
    other way) reach OpenClaw as a Workshop update applied at once. An update proposed but not
    applied (the apply failed) is applied on the next run, not proposed twice."""
    busy = {skill for r in run.side["proposals"].values() for skill in r.get("skills", {})}
    for skill, held in sorted(run.side["handed_over"].items()):
        if skill in busy or not isinstance(held, dict):
            continue
        try:
            bundle = _current(run.root, skill)
            if not bundle:  # said once: the hand-over ends, the Workshop's copy stays
                del run.side["handed_over"][skill]
                run.report.waiting.append(
                    f"{skill}: removed from the skills repository; OpenClaw's Workshop keeps "
                    "its copy (remove it in OpenClaw if it should go)"
                )
                continue
            version = _digest(bundle)
            if held.get("version") == version:
                continue
            if not _held_live(held):
                run.report.waiting.append(
                    f"{skill}: removed from OpenClaw's Workshop, so its accepted change is not "
                    "put back there"
                )
                continue
            workshop_id = (
                held.get("delivering") if held.get("delivering_version") == version else None
            )
            if workshop_id is None or run.status(workshop_id)[0] != OPEN:
                _check(skill, bundle)
                workshop_id = _propose(run, skill, bundle)
                held.update({"delivering": workshop_id, "delivering_version": version})
                run.save()  # at once: a failed apply is retried, not proposed again
            applied = run.ws.call("apply", workshop_id)
            entry = applied.get("record")
            _hand_over(run, skill, workshop_id, entry if isinstance(entry, dict) else {}, version)
            run.report.delivered.append(f"{skill} ({workshop_id})")
        except (AcontextError, OSError) as exc:
            run.report.errors.append(f"{skill}: the accepted change did not reach OpenClaw: {exc}")
        run.save()


def _propose(run: _Run, skill: str, bundle: Bundle) -> str:
    """propose-update (or -create) of an accepted change; the Workshop's proposal id."""
    with tempfile.TemporaryDirectory(prefix="acontext-workshop-") as tmp:
        draft = Path(tmp) / skill
        _write_draft(draft, bundle)
        kind, args = _kind(run, skill, f"Accepted change of {skill}")
        evidence = "accepted by the acontext-mcp review policy"
        answer = run.ws.call(kind, *args, "--proposal-dir", str(draft), "--evidence", evidence)
    record = answer.get("record")
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise WorkshopError(f"`openclaw skills workshop {kind}` answered without a proposal id")
    return str(record["id"])


def follow_decision(
    settings: Settings, proposal_id: str, decision: str, reason: str | None = None
) -> WorkshopReport:
    """After `acontext-mcp skills accept|reject ID` (decision "accepted" / "rejected"): apply
    or reject its Workshop proposal(s) now. Nothing to do when it never went to the Workshop."""
    report = WorkshopReport()
    state_dir = openclaw_state_dir()
    try:
        with _locked(settings):
            data = _load(settings)
            record = _side(data, state_dir)["proposals"].get(proposal_id)
            if record is None:
                return report
            record["decided"] = decision
            if reason:
                record["reason"] = reason
            _save(settings, data)  # even if the Workshop is not reachable now: next reconcile
            found = _detect(settings, data)
            if isinstance(found, str):
                report.unavailable = found
                return report
            run = _Run(settings, None, found, data, _side(data, state_dir), report)
            _follow(run, proposal_id, record, None)
            run.save()
    except (WorkshopError, OSError) as exc:
        report.errors.append(str(exc))
    return report

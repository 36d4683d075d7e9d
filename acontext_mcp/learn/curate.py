"""The curator: a budgeted pass over the skills repository that keeps what was learned small
and true. Run after every `learning.curate_every` learning commits (pipeline.after_learning,
in the worker) or by `acontext-mcp skills curate [--dry-run]`.

One pass, under the learner lock, over an overlay of the repository (learn/workspace.py):

1. daily logs: legacy day files (`logs/yyyy-mm-dd.md`) are folded into their month's file;
2. per file, learned entries only (skills/tidy.py; the user's lines are never touched):
   near-duplicates merged (evidence added up), statements superseded by newer contradicting
   ones removed, and a file over `curate_file_bytes` moves its old low-evidence entries to
   `archive/<path>`;
3. a SKILL.md whose text plus listing line exceeds `curate_skill_tokens` moves its learned
   entries to `notes.md` (with a pointer), else it is reported;
4. with `learning.curate_llm` on and a provider configured, a file still over budget is
   compacted by the model within `curate_llm_tokens` (every call accounted as usual);
5. skills whose name and description say the same thing: a proposal merges one into the
   other (a judgement call, so always a proposal).

Its changes are one commit (`Acontext-Kind: curation`) whose trailers name every line merged,
superseded, archived or rolled up, with the line that replaces it and their dates; or one
proposal, by the review policy (learn/review.py): `manual` proposes everything, `verified`
commits the deterministic pass (it only merges, moves and drops what verified learning
wrote) and proposes model-written text, `auto` commits everything.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp import user_config
from acontext_mcp.config import (
    DEFAULT_CURATE_EVERY,
    DEFAULT_CURATE_FILE_BYTES,
    DEFAULT_CURATE_LLM_TOKENS,
    DEFAULT_CURATE_SKILL_TOKENS,
    Settings,
)
from acontext_mcp.learn.entries import LOGS_SKILL
from acontext_mcp.learn.paths import MAX_FILE_BYTES
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.privacy.redact import redact_text
from acontext_mcp.skills import SKILL_FILE, tidy
from acontext_mcp.skills.defaults import DEFAULT_SKILLS
from acontext_mcp.skills.evidence import Entry
from acontext_mcp.skills.skillmd import parse_skill_md
from acontext_mcp.text import clip, one_line

log = logging.getLogger("acontext.learn")

KIND = "curation"
PURPOSE = "curate"
STATE_FILE = "acontext-curate.json"  # in the repository's .git: the learning count last seen
LOCK_WAIT_S = 60.0
NOTES_FILE = "notes.md"
NOTES_POINTER = f"More learned entries of this skill are in `{NOTES_FILE}`."
ARCHIVE_DIR = "archive/"
ARCHIVE_BYTES = MAX_FILE_BYTES * 8 // 10  # an archive file fills up to this, then the next


@dataclass(frozen=True)
class Options:
    """`learning.curate_*` in config.json (defaults in config.py)."""

    every: int = DEFAULT_CURATE_EVERY
    file_bytes: int = DEFAULT_CURATE_FILE_BYTES
    skill_tokens: int = DEFAULT_CURATE_SKILL_TOKENS
    llm: bool = False
    llm_tokens: int = DEFAULT_CURATE_LLM_TOKENS


_KEYS = {
    "curate_every": ("every", 0),
    "curate_file_bytes": ("file_bytes", 1024),
    "curate_skill_tokens": ("skill_tokens", 200),
    "curate_llm_tokens": ("llm_tokens", 0),
}


def options(settings: Settings) -> Options:
    """The curator's settings; a value that cannot be used is logged and its default kept."""
    section = user_config.load(settings).get("learning")
    if not isinstance(section, dict):
        return Options()
    found: dict[str, Any] = {}
    for key, (attr, least) in _KEYS.items():
        value = section.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            log.warning("learning.%s must be a whole number of at least %d; ignored", key, least)
            continue
        found[attr] = value
    llm = section.get("curate_llm")
    if llm is not None:
        if isinstance(llm, bool):
            found["llm"] = llm
        else:
            log.warning("learning.curate_llm must be true or false; ignored")
    return Options(**found)


def tokens(text: str) -> int:
    """A model's token count, estimated (about four characters a token)."""
    return (len(text) + 3) // 4


@dataclass
class Pass:
    """What one pass found and did."""

    changes: list[tidy.Change] = field(default_factory=list)
    oversize: list[dict[str, Any]] = field(default_factory=list)
    skill_budget: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    llm: dict[str, int] = field(
        default_factory=lambda: {"calls": 0, "input_tokens": 0, "output_tokens": 0}
    )
    llm_files: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out


# --- the deterministic pass ---------------------------------------------------------------------


def _write(ws: SkillWorkspace, done: Pass, skill: str, path: str, text: str | None) -> bool:
    problem = ws.write_text(skill, path, text)
    if problem:
        log.warning("curator: %s/%s left as it is: %s", skill, path, problem)
        done.refused.append(f"{skill}/{path}: {problem}")
    return problem is None


def _roll_up_logs(ws: SkillWorkspace, done: Pass) -> None:
    """Legacy day files folded into their months (the layout daily-logs now describes; an
    untouched earlier daily-logs SKILL.md is offered the new text by learn/retire.py, as a
    proposal, like every default)."""
    if LOGS_SKILL not in ws.skill_names():
        return
    for path in ws.files(LOGS_SKILL):
        m = tidy.DAY_FILE.match(path)
        if not m:
            continue
        day = f"{m.group('month')}-{m.group('dd')}"
        text = ws.read_text(LOGS_SKILL, path) or ""
        targets: list[str] = []
        for block in tidy.day_blocks(day, text):
            placed = tidy.place_log(lambda p: ws.read_text(LOGS_SKILL, p), day, block)
            if placed is None:
                continue  # already in the month's file
            target, _, new = placed
            if not _write(ws, done, LOGS_SKILL, target, new):
                break
            targets.append(f"{LOGS_SKILL}/{target}")
        else:
            _write(ws, done, LOGS_SKILL, path, None)
            into = ", ".join(dict.fromkeys(targets))
            where = f"{LOGS_SKILL}/{path}"
            done.changes.append(tidy.Change("rolled-up", where, "", into, "logs by month"))


def _tidy_file(ws: SkillWorkspace, done: Pass, opts: Options, skill: str, path: str) -> None:
    text = ws.read_text(skill, path)
    if text is None:
        return
    where = f"{skill}/{path}"
    new, merged = tidy.merge_duplicates(text, where)
    new, superseded = tidy.drop_superseded(new, where)
    changes = merged + superseded
    moved: list[Entry] = []
    if path != SKILL_FILE:
        new, moved, archived = tidy.archive_old(new, where, opts.file_bytes)
        changes += archived
    if new != text:
        if moved:
            stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            target, archive = _archive_for(ws, skill, path, stem, moved)
            if not _write(ws, done, skill, target, archive):
                return
            for change in changes:
                if change.kind == "archived":
                    change.into = f"{skill}/{target}"
        if not _write(ws, done, skill, path, new):
            return
        done.changes += changes
    if path != SKILL_FILE and tidy.size(new) > opts.file_bytes:
        done.oversize.append(
            {"file": where, "bytes": tidy.size(new), "budget": opts.file_bytes, "was": len(text)}
        )


def _archive_for(
    ws: SkillWorkspace, skill: str, path: str, stem: str, moved: list[Entry]
) -> tuple[str, str]:
    """(the archive file that takes `moved`, its new text): `archive/<path>`, then
    `archive/<path minus .md>-2.md` and so on once one is full, so an archive never grows
    to the size at which every edit is refused."""
    base = ARCHIVE_DIR + path
    n = 1
    while True:
        target = base if n == 1 else f"{base.removesuffix('.md')}-{n}.md"
        text = tidy.add_to_archive(ws.read_text(skill, target), stem, moved)
        if tidy.size(text) <= ARCHIVE_BYTES or ws.read_text(skill, target) is None:
            return target, text
        n += 1


def _description(text: str) -> str:
    try:
        front, _ = parse_skill_md(text)
    except Exception:  # a broken front matter is validate's to report
        return ""
    return " ".join(str(front.get("description") or "").split())


def _skill_budget(ws: SkillWorkspace, done: Pass, opts: Options, skill: str) -> None:
    """SKILL.md plus its listing within `skill_tokens`: its learned entries move to
    notes.md (oldest, least evidenced first) until it fits; what still does not is reported."""
    text = ws.read_text(skill, SKILL_FILE) or ""
    listing = f"- **{skill}**: {_description(text)}"
    used = tokens(text) + tokens(listing)
    if used <= opts.skill_tokens:
        return
    where = f"{skill}/{SKILL_FILE}"
    weak_first = sorted(tidy.entries_of(text), key=lambda e: (e.verified, e.seen, e.last))
    moved: list[Entry] = []
    new = text
    pointer = 0 if NOTES_POINTER in text else tokens(f"\n\n{NOTES_POINTER}")
    for entry in weak_first:
        if tokens(new) + tokens(listing) + (pointer if moved else 0) <= opts.skill_tokens:
            break
        moved.append(entry)
        new = "\n".join(ln for ln in new.split("\n") if ln.rstrip() != entry.line)
    if moved:
        if NOTES_POINTER not in new:
            new = new.rstrip("\n") + f"\n\n{NOTES_POINTER}\n"
        notes = tidy.add_to_archive(ws.read_text(skill, NOTES_FILE), skill, moved)
        notes = notes.replace(f"# {skill} (archive)", f"# {skill}: learned notes", 1)
        if _write(ws, done, skill, NOTES_FILE, notes) and _write(ws, done, skill, SKILL_FILE, new):
            why = f"{SKILL_FILE} and its listing over {opts.skill_tokens} tokens"
            done.changes += [
                tidy.Change("moved", where, e.line, f"{skill}/{NOTES_FILE}", why) for e in moved
            ]
            used = tokens(new) + tokens(listing)
    if used > opts.skill_tokens:
        done.skill_budget.append({"skill": skill, "tokens": used, "budget": opts.skill_tokens})


def tidy_pass(ws: SkillWorkspace, opts: Options) -> Pass:
    """Steps 1-3 of the module docstring, written into `ws` (nothing on disk yet)."""
    done = Pass()
    _roll_up_logs(ws, done)
    for skill in ws.skill_names():
        for path in ws.files(skill):
            if not path.endswith(".md") or path.startswith(ARCHIVE_DIR):
                continue
            if skill == LOGS_SKILL and path.startswith("logs/"):
                continue  # a diary, not entries: rolled up above, never merged
            _tidy_file(ws, done, opts, skill, path)
        _skill_budget(ws, done, opts, skill)
    return done


# --- the model, for what the rules could not shrink --------------------------------------------

COMPACT_SYSTEM = """\
You compact one file of a coding agent's skill memory that is over its size budget. Keep every \
heading and every fact that still helps; merge entries that say the same thing; drop \
repetition, filler and stale detail. Learned entries are lines of the form \
`- **Title**: text (when: words; seen N×, verified M×, first – last)`: keep that tail on \
each entry you keep, and when you merge entries add their counts and widen their dates; never \
raise a count otherwise. Lines without such a tail are the user's: keep them word for word. \
Answer with one call of write_compacted holding the whole new file."""


def _compact_tool() -> Any:
    from acontext_mcp.llm import ToolSpec

    return ToolSpec(
        name="write_compacted",
        description="The whole compacted file.",
        parameters={
            "type": "object",
            "properties": {"content": {"type": "string", "description": "The new file text."}},
            "required": ["content"],
            "additionalProperties": False,
        },
    )


def acceptable(old: str, new: str, budget: int) -> str | None:
    """Why the model's compaction cannot be used, or None: it must be smaller (and within
    the budget or at least a quarter smaller), keep the headings and the user's lines, and
    claim no more evidence than the file held."""
    if not new.strip():
        return "empty"
    if tidy.size(new) >= tidy.size(old) or (
        tidy.size(new) > budget and tidy.size(new) > 0.75 * tidy.size(old)
    ):
        return f"not smaller enough ({tidy.size(new)} of {tidy.size(old)} bytes)"
    heads = [ln for ln in old.splitlines() if ln.startswith("#")]
    missing = [h for h in heads if h not in new]
    if missing:
        return f"heading dropped: {missing[0]!r}"
    entries = {e.line for e in tidy.entries_of(old)}
    users = [ln.rstrip() for ln in old.splitlines() if ln.startswith("- ") and ln not in entries]
    lost = [u for u in users if u not in new]
    if lost:
        return f"a user's line dropped: {lost[0][:60]!r}"
    if sum(e.seen for e in tidy.entries_of(new)) > sum(e.seen for e in tidy.entries_of(old)):
        return "evidence counts raised"
    return None


def _compact_with_llm(
    ws: SkillWorkspace, done: Pass, opts: Options, settings: Settings, conn: sqlite3.Connection
) -> None:
    from acontext_mcp.llm import LLMUnavailable
    from acontext_mcp.llm.select import provider_for

    try:
        provider = provider_for(settings, conn)
    except LLMUnavailable as exc:
        log.info("curator: no model for compaction: %s", exc)
        return
    for item in done.oversize:
        skill, path = item["file"].split("/", 1)
        text = ws.read_text(skill, path) or ""
        estimate = tokens(COMPACT_SYSTEM) + 2 * tokens(text)
        spent = done.llm["input_tokens"] + done.llm["output_tokens"]
        if spent + estimate > opts.llm_tokens:
            item["llm"] = f"skipped: needs ~{estimate} tokens, {opts.llm_tokens - spent} left"
            continue
        try:
            reply = provider.complete(
                system=COMPACT_SYSTEM,
                messages=[{"role": "user", "parts": [{"type": "text", "text": text}]}],
                tools=[_compact_tool()],
                purpose=PURPOSE,
                max_tokens=max(512, tokens(text)),
            )
        except LLMUnavailable as exc:
            item["llm"] = f"not compacted: {exc}"
            break
        done.llm["calls"] += 1
        done.llm["input_tokens"] += reply.input_tokens
        done.llm["output_tokens"] += reply.output_tokens
        call = next((c for c in reply.tool_calls if c.name == "write_compacted"), None)
        new = call.arguments.get("content") if call is not None else None
        problem = "no write_compacted call" if not isinstance(new, str) else None
        problem = problem or acceptable(text, str(new), opts.file_bytes)
        if problem:
            item["llm"] = f"refused: {problem}"
            continue
        assert isinstance(new, str)
        if _write(ws, done, skill, path, new):
            item["llm"] = f"compacted to {tidy.size(new)} bytes"
            item["bytes"] = tidy.size(new)
            done.llm_files.append(item["file"])
            done.changes.append(
                tidy.Change("compacted", item["file"], f"{tidy.size(text)} bytes",
                            f"{tidy.size(new)} bytes", "over budget; compacted by the model")
            )  # fmt: skip
    done.oversize = [o for o in done.oversize if o["bytes"] > opts.file_bytes]


# --- skills that say the same thing --------------------------------------------------------------


def similar_pairs(ws: SkillWorkspace) -> list[dict[str, Any]]:
    """Pairs of near-duplicate skills as {from, into, similarity}: the default skills, then
    the skill with more files, absorb the other."""
    descriptions = {s: _description(ws.read_text(s, SKILL_FILE) or "") for s in ws.skill_names()}
    out = []
    for a, b, score in tidy.similar_skills(descriptions):
        if a in DEFAULT_SKILLS and b in DEFAULT_SKILLS:
            continue
        rank = {s: (s in DEFAULT_SKILLS, len(ws.files(s)), s == min(a, b)) for s in (a, b)}
        into = max((a, b), key=lambda s: rank[s])
        out.append({"from": b if into == a else a, "into": into, "similarity": score})
    return out


def _merge_skill(ws: SkillWorkspace, src: str, into: str) -> list[str]:
    """`src`'s files into `into` (its SKILL.md body as `<src>.md`, linked from `into`'s
    SKILL.md), `src` deleted. Returns the problems (nothing is applied when there are any)."""
    problems: list[str] = []
    taken = set(ws.files(into))
    for path in ws.files(src):
        text = ws.read_text(src, path)
        if text is None:
            continue
        if path == SKILL_FILE:
            _, body = parse_skill_md(text)
            dest = f"{src}.md"
            text = body.lstrip("\n")
        else:
            dest = path if path not in taken else f"{src}/{path}"
        while dest in taken:
            dest = "merged-" + dest
        taken.add(dest)
        problems += [p for p in [ws.write_text(into, dest, text)] if p]
        if path != SKILL_FILE:
            problems += [p for p in [ws.write_text(src, path, None)] if p]
    main = ws.read_text(into, SKILL_FILE) or ""
    pointer = f"Merged from the `{src}` skill: see `{src}.md`."
    problems += [
        p for p in [ws.write_text(into, SKILL_FILE, main.rstrip("\n") + f"\n\n{pointer}\n")] if p
    ]
    ws.drop_skill(src)
    return problems


# --- one pass -----------------------------------------------------------------------------------


MAX_TRAILERS = 200  # git takes the message as one argument (at most 128 KiB on Linux)
TRAILER_CHARS = 500


def _trailers(changes: list[tidy.Change]) -> list[str]:
    out = [clip(_trailer(c), TRAILER_CHARS) for c in changes[:MAX_TRAILERS]]
    if len(changes) > MAX_TRAILERS:
        rest = changes[MAX_TRAILERS:]
        kinds = sorted({c.kind for c in rest})
        out.append(f"Acontext-More: {len(rest)} more ({', '.join(kinds)}) not listed")
    return out


def _trailer(change: tidy.Change) -> str:
    key = {
        "merged": "Acontext-Merged",
        "superseded": "Acontext-Superseded",
        "archived": "Acontext-Archived",
        "rolled-up": "Acontext-Rolled-Up",
        "moved": "Acontext-Moved",
        "compacted": "Acontext-Compacted",
    }[change.kind]
    line = one_line(change.line, 300)
    if change.kind in ("archived", "moved"):  # the line is in its new file, word for word
        found = tidy.entries_of(change.line)
        line = f"**{found[0].title}** (last {found[0].last})" if found else line
    into = one_line(change.into, 300)
    text = change.path + (f": {line}" if line else "") + (f" -> {into}" if into else "")
    text += f" ({change.why})"
    return f"{key}: {redact_text(text)[0]}"


def _message(done: Pass) -> tuple[str, list[str]]:
    counts = done.counts()
    names = {
        "merged": "merged",
        "superseded": "superseded",
        "archived": "archived",
        "rolled-up": "log days by month",
        "moved": "moved to notes",
        "compacted": "compacted",
    }
    said = ", ".join(f"{n} {names[k]}" for k, n in counts.items())
    subject = clip(f"Curate skills: {said}", 72, at_word=True)
    body = [
        "Why: keep what was learned small and true (the newer statement wins; duplicates",
        "keep their added-up evidence; old unverified entries leave oversize files).",
    ]
    body += [""] + [f"- {c.kind}: {c.path} {one_line(c.line, 160)}" for c in done.changes[:50]]
    if len(done.changes) > 50:
        body.append(f"- ... and {len(done.changes) - 50} more (see the trailers)")
    return redact_text(subject + "\n\n" + "\n".join(body))[0], _trailers(done.changes)


def _report(done: Pass, dry_run: bool, **more: Any) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "counts": done.counts(),
        "changes": [c.to_dict() for c in done.changes],
        "oversize": done.oversize,
        "skill_budget": done.skill_budget,
        "refused": done.refused,
        "llm": done.llm,
        **more,
    }


def curate(
    settings: Settings,
    *,
    dry_run: bool = False,
    conn: sqlite3.Connection | None = None,
    lock_timeout: float = LOCK_WAIT_S,
) -> dict[str, Any]:
    """One curation pass (see the module docstring); with `dry_run`, what it would do, and
    nothing written (the model is not called either)."""
    from acontext_mcp.learn import review
    from acontext_mcp.learn.workspace import recover
    from acontext_mcp.skills import repo
    from acontext_mcp.skills.defaults import prepare

    opts = options(settings)
    root = settings.skills_dir
    prepare(settings)
    with repo.learner_lock(root, timeout=lock_timeout):
        if not dry_run:
            recover(root)
            repo.protect_user_edits(root)
        ws = SkillWorkspace(root)
        done = tidy_pass(ws, opts)
        pairs = similar_pairs(ws)
        if dry_run:
            return _report(done, True, skill_merges=pairs, skills=ws.touched_skills())
        if opts.llm and done.oversize:
            own = conn is None
            if own:
                from acontext_mcp.store.db import open_db

                conn = open_db(settings)
            assert conn is not None
            try:
                _compact_with_llm(ws, done, opts, settings, conn)
            finally:
                if own:
                    conn.close()
        policy = review.policy(settings)
        propose = policy == "manual" or (bool(done.llm_files) and policy != "auto")
        skills = ws.touched_skills()
        applied = None
        asked = _asked(root)
        waiting = asked.get(_message(done)[0].split("\n", 1)[0]) if propose else None
        if waiting:  # the same pass waits for review already: not proposed twice
            return _report(done, False, skill_merges=pairs, skills=[], waiting=waiting)
        if done.changes:
            message, trailers = _message(done)
            applied = ws.apply(
                message, session_ids=[], task_ids=[], propose=propose, kind=KIND, trailers=trailers
            )
        for pair in pairs:
            pair.update(_propose_merge(root, pair, asked))
    return _report(
        done,
        False,
        skill_merges=pairs,
        skills=skills,
        commit=applied.sha if applied else None,
        proposal=applied.proposal if applied else None,
    )


def _asked(root: Path) -> dict[str, str]:
    """Subject -> id of the curator's proposals waiting for review or rejected: a merge the
    user turned down, or one still waiting, is not proposed again."""
    from acontext_mcp.skills import proposals

    found = proposals.list_proposals(root, ("pending", "stale", "rejected"))
    return {p.subject: p.id for p in found if p.subject.startswith("Curate skills:")}


def _merge_subject(src: str, into: str) -> str:
    return f"Curate skills: merge {src} into {into}"


def _propose_merge(root: Path, pair: dict[str, Any], asked: dict[str, str]) -> dict[str, Any]:
    """A proposal merging pair["from"] into pair["into"], or why there is none."""
    src, into = pair["from"], pair["into"]
    if _merge_subject(src, into) in asked:
        return {"proposal": asked[_merge_subject(src, into)], "already": True}
    ws = SkillWorkspace(root)
    problems = _merge_skill(ws, src, into)
    if problems:
        return {"problem": "; ".join(problems)}
    why = f"their names and descriptions are {pair['similarity']:.0%} the same"
    message = (
        f"{_merge_subject(src, into)}\n\nWhy: {why}; one skill per domain keeps "
        f"the listing short and the entries in one place. {src}'s SKILL.md body becomes "
        f"{into}/{src}.md; its other files move into {into}."
    )
    trailer = f"Acontext-Merged-Skill: {src} -> {into} ({why})"
    try:
        applied = ws.apply(
            message, session_ids=[], task_ids=[], propose=True, kind=KIND, trailers=[trailer]
        )
    except Exception as exc:  # a proposal that cannot be made is reported, the pass stands
        return {"problem": str(exc)}
    return {"proposal": applied.proposal}


# --- after every N learnings ------------------------------------------------------------------


def _learning_count(root: Path) -> int:
    from acontext_mcp.skills import repo

    git_repo = repo.ensure_repo(root)
    try:
        if not git_repo.head.is_valid():
            return 0
        out = git_repo.git.rev_list("--count", "--grep=^Acontext-Kind: learning$", "HEAD")
        return int(out.strip() or 0)
    finally:
        git_repo.close()


def _state_path(root: Path) -> Path:
    return Path(root) / ".git" / STATE_FILE


def _last_count(root: Path) -> int:
    try:
        data = json.loads(_state_path(root).read_text(encoding="utf-8"))
        return int(data.get("learnings", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def due(settings: Settings) -> bool:
    """Whether `curate_every` learning commits were made since the last pass."""
    every = options(settings).every
    if every <= 0:
        return False
    root = settings.skills_dir
    return _learning_count(root) - _last_count(root) >= every


def maybe_curate(settings: Settings) -> dict[str, Any] | None:
    """A pass when one is due (None otherwise). A busy repository or a failure is logged and
    retried after the next learning: a curation pass never stops learning."""
    from acontext_mcp.fsio import replace_file
    from acontext_mcp.skills.repo import LearnerBusy

    try:
        if not due(settings):
            return None
        count = _learning_count(settings.skills_dir)
        found = curate(settings, lock_timeout=0.0)
    except LearnerBusy:
        return None
    except Exception as exc:
        log.warning("curation pass failed: %s", exc)
        return {"error": str(exc)}
    data = json.dumps({"learnings": count}).encode()
    replace_file(_state_path(settings.skills_dir), data, prefix=".curate-", mode=0o600)
    return found

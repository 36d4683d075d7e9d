"""Skill proposals: learned changes that wait for review before any agent sees them.

A proposal is one commit on its own branch, `refs/heads/proposals/<id>`, made with git
plumbing (a temporary index and `commit-tree`), so neither the working tree nor main moves:
sync copies the working tree, which is main, so a proposal reaches no agent until accepted.
The commit carries the learning's provenance trailers and, per changed file, the blob it was
made from (`Acontext-Base: <blob or "absent"> <path>`). When main's version of one of those
files differs, the proposal is `stale`; accepting it then applies it with a 3-way merge, or
refuses (nothing changed) when that conflicts: reject it and learn again (README).

Accepting commits the change onto the checked-out branch (main) and moves the proposal's ref
under `refs/acontext/accepted/`; rejecting moves it under `refs/acontext/rejected/` with the
reason in a small commit on top. The id is the proposal commit's abbreviated sha; any unique
prefix of it is accepted.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from acontext_mcp.errors import InvalidInput, NotFound
from acontext_mcp.skills import repo
from acontext_mcp.skills.proposal_refs import ACCEPTED, PENDING, REJECTED
from acontext_mcp.skills.validate import SKILL_FILE, validate_text

STATES = ("pending", "stale", "accepted", "rejected")
BASE_TRAILER = "Acontext-Base"
REJECTED_TRAILER = "Acontext-Rejected"
PROPOSAL_TRAILER = "Acontext-Proposal"
ABSENT = "absent"
ID_LEN = 12
LOCK_WAIT_S = 60.0
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Proposal:
    """One proposal as listed: `state` is pending, stale, accepted or rejected; `files` are
    repository-relative paths it changes; `reason` is set for a rejected one."""

    id: str
    state: str  # pending | stale | accepted | rejected
    subject: str
    skills: list[str]
    files: list[str]
    created_at: float
    session_ids: list[str]
    task_ids: list[str]
    commit: str = ""
    reason: str | None = None
    stale_files: tuple[str, ...] = ()


class ProposalConflict(repo.SkillsRepoError):
    """Accepting a stale proposal conflicted with main; nothing was changed."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


# --- git, with stdin and a private index when needed ----------------------------------------


def _git(
    root: Path,
    *args: str,
    data: bytes | None = None,
    index: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": ":", **(env or {})}
    full_env["GIT_AUTHOR_NAME"] = full_env["GIT_COMMITTER_NAME"] = repo.LEARNER[0]
    full_env["GIT_AUTHOR_EMAIL"] = full_env["GIT_COMMITTER_EMAIL"] = repo.LEARNER[1]
    if index is not None:
        full_env["GIT_INDEX_FILE"] = index
    done = subprocess.run(
        ["git", *args], cwd=root, input=data, capture_output=True, env=full_env, check=False
    )
    if check and done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        raise repo.SkillsRepoError(f"git {' '.join(args[:2])} failed in {root}: {err}")
    return done


def _out(root: Path, *args: str) -> str:
    return _git(root, *args).stdout.decode("utf-8", errors="replace")


def _root(root: Path | str) -> Path:
    with repo._opened(root) as git_repo:
        return Path(git_repo.working_dir)


def _head(root: Path) -> str | None:
    done = _git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _blobs(root: Path, commit: str | None, paths: list[str]) -> dict[str, str]:
    """Blob sha per path present in `commit` (paths absent from it are left out)."""
    if commit is None or not paths:
        return {}
    out = _git(
        root, "--literal-pathspecs", "ls-tree", "-z", "--full-tree", commit, "--", *paths
    ).stdout.decode()
    found = {}
    for record in filter(None, out.split("\0")):
        meta, _, path = record.partition("\t")
        kind, sha = meta.split(" ")[1:3]
        if kind == "blob":
            found[path] = sha
    return found


def _content(root: Path, commit: str, path: str) -> str | None:
    done = _git(root, "cat-file", "blob", f"{commit}:{path}", check=False)
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def head_files(root: Path | str, paths: list[str]) -> tuple[str | None, dict[str, str | None]]:
    """(HEAD's sha, path -> its text at HEAD, None when absent): what a proposal is based on."""
    top = _root(root)
    head = _head(top)
    return head, {p: (_content(top, head, p) if head else None) for p in paths}


# --- making one ------------------------------------------------------------------------------


def create(
    root: Path | str,
    message: str,
    files: dict[str, str | None],
    *,
    parent: str | None,
    session_ids: list[str],
    task_ids: list[str],
    kind: str = "learning",
    trailers: Sequence[str] = (),
) -> Proposal:
    """Commit `files` (path -> new text, None: delete) on top of `parent` as a new proposal.

    Neither the working tree nor any branch but the new one changes. The caller holds the
    learner lock and has merged `files` with `parent`'s versions (head_files). `kind` is the
    Acontext-Kind trailer (a retirement is not a learning); `trailers` are more
    `Acontext-Key: value` lines saying why (see learn/retire.py, learn/curate.py).
    """
    text = message.strip()
    if not text:
        raise InvalidInput("a proposal needs a message saying what was learned")
    if not files:
        raise InvalidInput("a proposal needs at least one changed file")
    sessions = repo.provenance_values(session_ids, "session_id")
    tasks = repo.provenance_values(task_ids, "task_id")
    top = _root(root)
    paths = sorted(files)
    for path in paths:
        repo.provenance_values(path, "path")  # one line, or InvalidInput before anything
    extra = repo.provenance_values(trailers, "trailer")
    for line in extra:
        key = line.split(":", 1)[0]
        if not key.startswith("Acontext-") or " " in key or key == BASE_TRAILER or ":" not in line:
            raise InvalidInput(f"{line!r} is not a trailer a proposal can carry")
    base = _blobs(top, parent, paths)
    with tempfile.TemporaryDirectory(prefix="acontext-proposal-") as tmp:
        index = str(Path(tmp) / "index")
        _git(top, "read-tree", parent or _EMPTY_TREE, index=index)
        for path in paths:
            content = files[path]
            if content is None:
                _git(top, "update-index", "--force-remove", "--", path, index=index)
                continue
            blob = _git(top, "hash-object", "-w", "--stdin", data=content.encode("utf-8"))
            sha = blob.stdout.decode().strip()
            _git(top, "update-index", "--add", "--cacheinfo", f"100644,{sha},{path}", index=index)
        tree = _git(top, "write-tree", index=index).stdout.decode().strip()
    lines = [f"Acontext-Kind: {repo.provenance_values(kind, 'kind')[0]}"]
    lines += [f"Acontext-Session: {v}" for v in sessions]
    lines += [f"Acontext-Task: {v}" for v in tasks]
    lines += extra
    lines += [f"{BASE_TRAILER}: {base.get(p, ABSENT)} {p}" for p in paths]
    full = f"{text}\n\n" + "\n".join(lines) + "\n"
    args = ["commit-tree", "--no-gpg-sign", tree] + (["-p", parent] if parent else [])
    commit = _git(top, *args, data=full.encode("utf-8")).stdout.decode().strip()
    pid = commit[:ID_LEN]
    _git(top, "update-ref", f"{PENDING}{pid}", commit, "")  # "": it must not exist yet
    return get(top, pid)


# --- reading -----------------------------------------------------------------------------------


@dataclass
class _Ref:
    state: str  # pending (stale decided later), accepted, rejected
    pid: str
    commit: str  # the ref's commit (for a rejected one, the rejection on top)
    created_at: float
    message: str
    committed_at: float = 0.0  # when the ref's commit was made (a rejection: when rejected)


def _refs(root: Path) -> list[_Ref]:
    fmt = "%(refname)%00%(objectname)%00%(authordate:unix)%00%(committerdate:unix)%00%(contents)%1e"
    out = _out(root, "for-each-ref", f"--format={fmt}", PENDING, ACCEPTED, REJECTED)
    found = []
    for record in out.split("\x1e"):
        record = record.lstrip("\n")
        if not record:
            continue
        name, commit, when, committed, message = record.split("\0", 4)
        for prefix, state in ((PENDING, "pending"), (ACCEPTED, "accepted"), (REJECTED, "rejected")):
            if name.startswith(prefix):
                pid = name[len(prefix) :]
                found.append(
                    _Ref(state, pid, commit, float(when or 0), message, float(committed or 0))
                )
    return found


def _trailers(message: str) -> list[tuple[str, str]]:
    out = []
    for line in message.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.startswith("Acontext-") and " " not in key:
            out.append((key, value.strip()))
    return out


def _bases(message: str) -> dict[str, str]:
    """path -> base blob sha (or ABSENT) from the Acontext-Base trailers."""
    found = {}
    for key, value in _trailers(message):
        if key == BASE_TRAILER:
            blob, _, path = value.partition(" ")
            if path:
                found[path] = blob
    return found


def _build(root: Path, ref: _Ref, main: str | None, now: dict[str, str] | None = None) -> Proposal:
    """The proposal of `ref`; `now` holds main's blobs of its files when the caller read them
    for many proposals at once."""
    bases = _bases(ref.message)
    files = sorted(bases)
    state = ref.state
    stale: tuple[str, ...] = ()
    if state == "pending":
        now = _blobs(root, main, files) if now is None else now
        stale = tuple(p for p in files if now.get(p, ABSENT) != bases[p])
        state = "stale" if stale else "pending"
    trailers = _trailers(ref.message)
    reason = next((v for k, v in trailers if k == REJECTED_TRAILER), None)
    return Proposal(
        id=ref.pid,
        state=state,
        subject=ref.message.split("\n", 1)[0].strip(),
        skills=sorted({p.split("/", 1)[0] for p in files}),
        files=files,
        created_at=ref.created_at,
        session_ids=[v for k, v in trailers if k == "Acontext-Session"],
        task_ids=[v for k, v in trailers if k == "Acontext-Task"],
        commit=ref.commit if ref.state != "rejected" else _parent(root, ref.commit),
        reason=(reason or None) if ref.state == "rejected" else None,
        stale_files=stale,
    )


def _parent(root: Path, commit: str) -> str:
    return _out(root, "rev-parse", f"{commit}^").strip()


def list_proposals(root: Path, states: tuple[str, ...] = ("pending", "stale")) -> list[Proposal]:
    """Proposals in `states`, oldest first. Pending and stale ones are told apart by comparing
    each changed file's base blob with the checked-out branch (main)."""
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise InvalidInput(f"unknown proposal state {unknown[0]!r}; states: {', '.join(STATES)}")
    top = _root(root)
    main = _head(top)
    refs = _refs(top)
    files = sorted({path for ref in refs if ref.state == "pending" for path in _bases(ref.message)})
    now = _blobs(top, main, files)  # one ls-tree for every waiting proposal
    found = [_build(top, ref, main, now) for ref in refs]
    return sorted((p for p in found if p.state in states), key=lambda p: (p.created_at, p.id))


def marked(root: Path | str, key: str) -> list[tuple[str, str, list[str], float]]:
    """(id, state, the values of trailer `key`, when its ref's commit was made) of every
    proposal carrying `key`; for a rejected one that time is when it was rejected. How a pass
    that proposes (retirement) knows what it proposed before and what was turned down; the
    state is pending, accepted or rejected (pending and stale are not told apart)."""
    found = []
    for ref in _refs(_root(root)):
        values = [v for k, v in _trailers(ref.message) if k == key]
        if values:
            found.append((ref.pid, ref.state, values, ref.committed_at))
    return found


def _find(root: Path, proposal_id: str) -> _Ref:
    wanted = (proposal_id or "").strip().lower()
    if not wanted or not all(c in "0123456789abcdef" for c in wanted):
        raise InvalidInput(
            f"{proposal_id!r} is not a proposal id; `acontext-mcp skills proposals` lists them"
        )
    matches = [r for r in _refs(root) if r.pid.startswith(wanted)]
    if not matches:
        raise NotFound(
            f"no proposal {proposal_id!r}; `acontext-mcp skills proposals` lists the pending ones"
        )
    if len(matches) > 1:
        ids = ", ".join(sorted(r.pid for r in matches))
        raise InvalidInput(f"proposal id {proposal_id!r} is ambiguous ({ids}); give more of it")
    return matches[0]


def get(root: Path | str, proposal_id: str) -> Proposal:
    """One proposal, in any state, by its id or a unique prefix of it."""
    top = _root(root)
    return _build(top, _find(top, proposal_id), _head(top))


def proposal_files(root: Path, proposal_id: str) -> dict[str, str | None]:
    """Path -> the proposed text of each file the proposal changes (None: it deletes it)."""
    top = _root(root)
    found = get(top, proposal_id)
    return {path: _content(top, found.commit, path) for path in found.files}


def proposal_diff(root: Path | str, proposal_id: str) -> str:
    """The proposal's change: a patch from the main version it was made from."""
    top = _root(root)
    found = get(top, proposal_id)
    parents = _out(top, "rev-list", "--parents", "-n", "1", found.commit).split()
    if len(parents) > 1:
        return _out(top, "diff", parents[1], found.commit, "--")
    return _out(top, "diff", _EMPTY_TREE, found.commit, "--")


# --- deciding ----------------------------------------------------------------------------------


def _require_open(ref: _Ref) -> None:
    if ref.state != "pending":
        raise InvalidInput(f"proposal {ref.pid} is already {ref.state}; nothing to do")


def _move(root: Path, ref: _Ref, new_ref: str, new_sha: str) -> None:
    """Move the proposal's branch to `new_ref` in one transaction (both or neither)."""
    script = f"start\ncreate {new_ref} {new_sha}\ndelete {PENDING}{ref.pid} {ref.commit}\ncommit\n"
    _git(root, "update-ref", "--stdin", data=script.encode())


def _main_message(message: str, pid: str) -> str:
    lines = [ln for ln in message.rstrip("\n").splitlines() if not ln.startswith(BASE_TRAILER)]
    return "\n".join(lines).rstrip("\n") + f"\n{PROPOSAL_TRAILER}: {pid}\n"


def accept(root: Path, proposal_id: str) -> str:
    """Apply the proposal onto the checked-out branch (main) as one learning commit and
    return its sha. A stale proposal is merged 3-way; a conflict, or a SKILL.md the merge
    would make invalid, raises ProposalConflict with nothing changed."""
    top = _root(root)
    with repo.learner_lock(top, timeout=LOCK_WAIT_S):
        repo.protect_user_edits(top)
        repo.check_ready(top)
        ref = _find(top, proposal_id)
        _require_open(ref)
        found = _build(top, ref, _head(top))
        before = _head(top)
        done = _git(top, "cherry-pick", "--no-commit", ref.commit, check=False)
        if done.returncode != 0:
            files = sorted(
                filter(None, _out(top, "diff", "--name-only", "--diff-filter=U").splitlines())
            )
            _git(top, "cherry-pick", "--abort", check=False)
            _restore(top, before)
            if not files:
                err = done.stderr.decode(errors="replace").strip()
                raise repo.SkillsRepoError(
                    f"proposal {ref.pid} could not be applied, nothing was changed: {err}"
                )
            raise ProposalConflict(
                f"proposal {ref.pid} no longer applies: main changed the same lines in "
                f"{', '.join(files)}. Nothing was changed. "
                f"Reject it and learn again from current skills: acontext-mcp skills reject "
                f"{ref.pid} --relearn",
                files,
            )
        broken = _invalid_skills(top, found.files)
        if broken:
            _git(top, "cherry-pick", "--quit", check=False)
            _restore(top, before)
            raise ProposalConflict(
                f"proposal {ref.pid} merged with main would leave an invalid {SKILL_FILE} in "
                f"{', '.join(broken)}. Nothing was changed. Reject it and learn again: "
                f"acontext-mcp skills reject {ref.pid} --relearn",
                [f"{s}/{SKILL_FILE}" for s in broken],
            )
        staged = _git(top, "diff", "--cached", "--quiet", check=False).returncode != 0
        if staged:
            _git(
                top,
                "commit",
                "--no-gpg-sign",
                "-q",
                "-F",
                "-",
                data=_main_message(ref.message, ref.pid).encode("utf-8"),
            )
        _git(top, "cherry-pick", "--quit", check=False)
        after = _head(top)
        assert after is not None
        _move(top, ref, f"{ACCEPTED}{ref.pid}", ref.commit)
        return after


def _restore(root: Path, before: str | None) -> None:
    if before is not None:
        _git(root, "reset", "-q", "--hard", before, check=False)


def _invalid_skills(root: Path, files: list[str]) -> list[str]:
    """Skills whose SKILL.md among `files`, as staged by the merge (read from the index, never
    through the file system), breaks the Agent Skills rules."""
    bad = []
    for path in files:
        skill, _, inner = path.partition("/")
        if inner != SKILL_FILE:
            continue
        staged = _git(root, "cat-file", "blob", f":{path}", check=False)
        if staged.returncode == 0 and validate_text(skill, staged.stdout.decode("utf-8")):
            bad.append(skill)
    return bad


def reject(root: Path, proposal_id: str, reason: str | None = None) -> None:
    """Move the proposal under refs/acontext/rejected/ with `reason` recorded (a commit on
    top of it that changes nothing); main and the working tree are untouched."""
    top = _root(root)
    ref = _find(top, proposal_id)
    _require_open(ref)
    why = " ".join((reason or "").split()) or "-"
    message = ref.message.rstrip("\n") + f"\n{REJECTED_TRAILER}: {why}\n"
    tree = _out(top, "rev-parse", f"{ref.commit}^{{tree}}").strip()
    # Keep the proposal's date: it is when the proposal was made, not when it was rejected.
    date = _out(top, "log", "-1", "--format=%ad", "--date=raw", ref.commit).strip()
    commit = _git(
        top,
        "commit-tree",
        "--no-gpg-sign",
        tree,
        "-p",
        ref.commit,
        data=message.encode("utf-8"),
        env={"GIT_AUTHOR_DATE": date},
    )
    _move(top, ref, f"{REJECTED}{ref.pid}", commit.stdout.decode().strip())

"""The skills directory as a git repository: learning commits, user edits, history, sync.

Every change the learner makes is one commit with provenance trailers (`Acontext-Session`,
`Acontext-Task`). The user's uncommitted edits are committed as the user's before the learner
writes, so nothing the user typed is ever overwritten. Pull and push rebase, never force; a
conflict is aborted and reported with the repository left exactly as it was.

Identities are passed per command (environment), never written into the user's git config:
learner commits are "acontext-mcp <acontext-mcp@localhost>"; user-edit and revert commits are
authored by the user's configured git identity, or "user <user@localhost>" when none is set.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import git

from acontext_mcp.errors import AcontextError, InvalidInput, NotFound, PathEscape

LEARNER = ("acontext-mcp", "acontext-mcp@localhost")
FALLBACK_USER = ("user", "user@localhost")
USER_EDITS_SUBJECT = "User edits to skills (kept before learning)"
REMOTE = "origin"
LOCK_NAME = "acontext.lock"
TRAILER_KEYS = {
    "Acontext-Session": "session_id",
    "Acontext-Task": "task_id",
    "Acontext-Reverts": "reverts",
    "Acontext-Kind": "kind",
    "Acontext-Proposal": "proposal",
}
_TRAILER = re.compile(r"^(Acontext-[A-Za-z-]+):\s*(.*)$")


class SkillsRepoError(AcontextError):
    """A git operation on the skills repository could not be done."""


class NoRemote(SkillsRepoError):
    """Pull or push without a configured remote."""


class SyncConflict(SkillsRepoError):
    """A pull whose rebase conflicted; it was aborted, nothing changed."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class UnsafeRemote(SkillsRepoError):
    """A pull refused because the remote's tree holds symbolic links or submodules."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class PushRejected(SkillsRepoError):
    """The remote has commits this clone does not have (never forced)."""


class RevertConflict(SkillsRepoError):
    """A revert that later commits conflict with; it was aborted, nothing changed."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class LearnerBusy(SkillsRepoError):
    """Another learner run holds the skills repository's lock."""


# --- opening and running git ---------------------------------------------------------------


def ensure_repo(path: Path | str) -> git.Repo:
    """Open the skills repository, creating the directory and `git init` on first use.

    Existing files are left untracked (the next `protect_user_edits` commits them as the
    user's). The caller closes the returned repo (`repo.close()` or `with`).
    """
    root = Path(path).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"skills directory {root} is a file; point ACONTEXT_SKILLS_DIR at a dir")
    if (root / ".git").exists():
        try:
            return git.Repo(root)
        except git.exc.InvalidGitRepositoryError as exc:
            raise SkillsRepoError(
                f"{root}/.git is not a usable git repository; move it aside and retry"
            ) from exc
    root.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(root)
    # A fixed initial branch whatever init.defaultBranch says (works on any git version).
    repo.git.symbolic_ref("HEAD", "refs/heads/main")
    return repo


@contextlib.contextmanager
def _opened(path: Path | str) -> Iterator[git.Repo]:
    repo = ensure_repo(path)
    try:
        yield repo
    finally:
        repo.close()


def _env(author: tuple[str, str] | None = None) -> dict[str, str]:
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": ":", "GIT_SEQUENCE_EDITOR": ":"}
    env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"] = LEARNER
    if author is not None:
        env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"] = author
    return env


def _run(
    repo: git.Repo, *args: str, author: tuple[str, str] | None = None, check: bool = True
) -> tuple[int, str, str]:
    """Run `git args` in the repo; returns (status, stdout, stderr)."""
    status, out, err = repo.git.execute(
        ["git", *args],
        env=_env(author),
        with_extended_output=True,
        with_exceptions=False,
        strip_newline_in_stdout=False,
    )
    if check and status != 0:
        cmd = " ".join(args[:2])
        raise SkillsRepoError(f"git {cmd} failed in {repo.working_dir}: {err.strip() or out}")
    return status, out, err


def _head(repo: git.Repo) -> str | None:
    status, out, _ = _run(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    return out.strip() if status == 0 else None


def _branch(repo: git.Repo) -> str:
    status, out, _ = _run(repo, "symbolic-ref", "--short", "-q", "HEAD", check=False)
    if status != 0:
        raise SkillsRepoError(
            f"{repo.working_dir} is on a detached HEAD; check out a branch (git switch main)"
        )
    return out.strip()


def _assert_idle(repo: git.Repo) -> None:
    gitdir = Path(repo.git_dir)
    busy = [
        n
        for n in ("rebase-merge", "rebase-apply", "MERGE_HEAD", "REVERT_HEAD", "CHERRY_PICK_HEAD")
        if (gitdir / n).exists()
    ]
    if busy:
        raise SkillsRepoError(
            f"a git operation is in progress in {repo.working_dir} ({busy[0]}); finish it or "
            "abort it (git rebase --abort / git merge --abort / git revert --abort) and retry"
        )


def check_ready(repo_path: Path | str) -> None:
    """Raise SkillsRepoError, saying what to run, when the repository cannot take a learning
    commit now: a git operation left in progress, or a detached HEAD."""
    with _opened(repo_path) as repo:
        _assert_idle(repo)
        _branch(repo)


def _user_identity(repo: git.Repo) -> tuple[str, str]:
    values = []
    for key, fallback in zip(("user.name", "user.email"), FALLBACK_USER, strict=True):
        status, out, _ = _run(repo, "config", "--get", key, check=False)
        values.append(out.strip() if status == 0 and out.strip() else fallback)
    return values[0], values[1]


def _dirty(repo: git.Repo) -> list[str]:
    _, out, _ = _run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    files = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if entry:
            files.append(entry[3:])
            if entry[0] in "RC":  # a rename carries its source path as the next entry
                i += 1
        i += 1
    return files


def _unmerged(repo: git.Repo) -> list[str]:
    _, out, _ = _run(repo, "diff", "--name-only", "--diff-filter=U", check=False)
    return sorted(line for line in out.splitlines() if line)


def unmerged(repo_path: Path | str) -> list[str]:
    """Paths git holds as unmerged (a merge, rebase or revert stopped on a conflict)."""
    with _opened(repo_path) as repo:
        return _unmerged(repo)


def _resolve(repo: git.Repo, rev: str) -> str:
    if not rev or rev.startswith("-") or any(c.isspace() for c in rev):
        raise InvalidInput(f"{rev!r} is not a commit; pass a sha from `acontext-mcp skills log`")
    status, out, _ = _run(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
    if status != 0:
        raise NotFound(f"no commit {rev!r} in {repo.working_dir}; see `acontext-mcp skills log`")
    return out.strip()


def _relpaths(root: Path, paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    rel = []
    for p in paths:
        raw = Path(p)
        full = (raw if raw.is_absolute() else root / raw).absolute()
        norm = Path(os.path.normpath(full))
        try:
            r = norm.relative_to(root)
        except ValueError:
            try:  # the same place reached through a symlinked parent (/tmp -> /private/tmp)
                r = Path(os.path.normpath(norm.parent.resolve() / norm.name)).relative_to(
                    root.resolve()
                )
            except ValueError as exc:
                raise PathEscape(f"{p} is outside the skills repository {root}") from exc
        if r.parts and r.parts[0] == ".git":
            raise PathEscape(f"{p} is inside .git; learners write skill files only")
        rel.append(r.as_posix() if r.parts else ".")
    return rel


# --- commits -------------------------------------------------------------------------------


def _one_line(value: object, what: str) -> str:
    text = str(value).strip()
    if "\n" in text or "\r" in text:
        raise InvalidInput(f"{what} must be one line, got {text!r}")
    return text


def provenance_values(value: object, what: str) -> list[str]:
    """Distinct one-line trailer values, in order, from None, one value or a sequence of them.

    Raises InvalidInput for a multi-line value, so callers can check before writing anything.
    """
    if value is None:
        return []
    items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else [value]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        text = _one_line(item, what)
        if text and text not in out:
            out.append(text)
    return out


def commit_learning(
    repo_path: Path | str,
    message: str,
    *,
    session_id: str | Sequence[str] | None,
    task_id: str | int | Sequence[str | int] | None,
    paths: Iterable[str | os.PathLike[str]],
    kind: str = "learning",
    trailers: Sequence[str] = (),
) -> str | None:
    """Commit the files the learner wrote (or deleted) as one learning, with provenance.

    One learner run batches several tasks, so `session_id` and `task_id` may each be None, one
    value or a sequence: one trailer per distinct value, in order. Only `paths` are committed
    (files or folders, relative to the repository or absolute inside it); other changes stay as
    they are. Returns the new sha, or None when the given paths hold no change. `kind` is the
    `Acontext-Kind` trailer; `trailers` are more `Key: value` lines (the curator's).
    """
    text = message.strip()
    if not text:
        raise InvalidInput("a learning commit needs a message saying what was learned")
    sessions = provenance_values(session_id, "session_id")
    tasks = provenance_values(task_id, "task_id")
    with _opened(repo_path) as repo:
        _assert_idle(repo)
        root = Path(repo.working_dir)
        rel = _relpaths(root, paths)
        if not rel:
            raise InvalidInput("commit_learning needs the paths the learner wrote")
        present = []
        for r in rel:
            _, tracked, _ = _run(repo, "ls-files", "--", r)
            if (root / r).exists() or tracked.strip():
                present.append(r)
        if not present:
            return None
        _run(repo, "add", "-A", "--", *present)
        status, _, _ = _run(repo, "diff", "--cached", "--quiet", "--", *present, check=False)
        if status == 0:
            return None
        lines = [f"Acontext-Kind: {_one_line(kind, 'kind')}"]
        lines += [f"Acontext-Session: {v}" for v in sessions]
        lines += [f"Acontext-Task: {v}" for v in tasks]
        lines += [_one_line(t, "trailer") for t in trailers]
        full = f"{text}\n\n" + "\n".join(lines) + "\n"
        _run(repo, "commit", "--no-gpg-sign", "-q", "-m", full, "--", *present, author=LEARNER)
        return _head(repo)


def protect_user_edits(repo_path: Path | str) -> str | None:
    """Commit the user's uncommitted changes (modified, deleted, untracked) as the user's.

    Call before the learner writes. Returns the new sha, or None when the tree was clean.
    Files matched by .gitignore stay untouched and uncommitted.
    """
    with _opened(repo_path) as repo:
        _assert_idle(repo)
        if not _dirty(repo):
            return None
        _run(repo, "add", "-A")
        status, _, _ = _run(repo, "diff", "--cached", "--quiet", check=False)
        if status == 0 and _head(repo) is not None:
            return None
        msg = f"{USER_EDITS_SUBJECT}\n\nAcontext-Kind: user-edits\n"
        _run(repo, "commit", "--no-gpg-sign", "-q", "-m", msg, author=_user_identity(repo))
        return _head(repo)


# --- history -------------------------------------------------------------------------------


def _provenance(message: str) -> dict[str, str | list[str]]:
    """Trailer values by key: a string when the key occurs once, a list when it repeats (a
    learner run that batched several sessions or tasks)."""
    found: dict[str, list[str]] = {}
    for line in message.splitlines():
        m = _TRAILER.match(line.strip())
        if m and m.group(1) in TRAILER_KEYS:
            found.setdefault(TRAILER_KEYS[m.group(1)], []).append(m.group(2).strip())
    return {k: v[0] if len(v) == 1 else v for k, v in found.items()}


def log(
    repo_path: Path | str, limit: int = 20, *, start: str | None = None, path: str | None = None
) -> list[dict[str, Any]]:
    """The newest `limit` commits: sha, date (ISO 8601), author, subject, kind, provenance.

    `provenance` maps session_id / task_id / reverts to a string, or to a list of strings
    when the commit carries several (a learner run that batched several tasks). `start`
    lists from that commit instead of HEAD (a page of a long history); `path` keeps the
    commits that touched it (a skill's folder, taken literally: no pathspec magic).
    """
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    with _opened(repo_path) as repo:
        if _head(repo) is None:
            return []
        fmt = "%H%x1f%aI%x1f%an <%ae>%x1f%s%x1f%B%x1e"
        args = ["--literal-pathspecs", "log", f"--max-count={limit}", f"--format={fmt}"]
        args.append(_resolve(repo, start) if start is not None else "HEAD")
        _, out, _ = _run(repo, *args, "--", *([path] if path else []))
    entries = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, date, author, subject, body = record.split("\x1f", 4)
        prov = _provenance(body)
        entries.append(
            {
                "sha": sha,
                "date": date,
                "author": author,
                "subject": subject,
                "kind": prov.pop("kind", "other"),
                "provenance": prov,
            }
        )
    return entries


def diff(repo_path: Path | str, rev: str | None = None) -> str:
    """Without `rev`: the uncommitted changes, untracked files included. With a commit: what
    that commit changed (header and patch). With a range `a..b`: the diff between them."""
    with _opened(repo_path) as repo:
        if rev is None:
            parts = []
            if _head(repo) is not None:
                parts.append(_run(repo, "diff", "HEAD")[1])
            else:
                parts.append(_run(repo, "diff", "--cached")[1])
            _, untracked, _ = _run(repo, "ls-files", "--others", "--exclude-standard", "-z")
            for name in filter(None, untracked.split("\0")):
                parts.append(
                    _run(repo, "diff", "--no-index", "--", os.devnull, name, check=False)[1]
                )
            return "".join(parts)
        if ".." in rev:
            a, _, b = rev.partition("...") if "..." in rev else rev.partition("..")
            for side in (a, b):
                if side:
                    _resolve(repo, side)
            return _run(repo, "diff", rev, "--")[1]
        sha = _resolve(repo, rev)
        return _run(repo, "show", "--format=medium", "--patch", sha, "--")[1]


def changed_skills(repo_path: Path | str, before: str | None, after: str | None) -> list[str]:
    """Top-level folders whose files differ between two commits (for the search index)."""
    if not after or before == after:
        return []
    if before:
        args = ["diff", "--name-only", "--no-renames", before, after]
    else:  # the first commits: every file is new
        args = ["ls-tree", "-r", "--name-only", after]
    with _opened(repo_path) as repo:
        out = _run(repo, *args)[1]
    return sorted({line.split("/", 1)[0] for line in out.splitlines() if "/" in line})


def revert(repo_path: Path | str, sha: str) -> str:
    """A new commit undoing `sha`. Uncommitted user edits are committed as the user's first.

    A conflict with later commits is aborted (tree left clean) and raised as RevertConflict.
    """
    protect_user_edits(repo_path)
    with _opened(repo_path) as repo:
        _assert_idle(repo)
        if _head(repo) is None:
            raise NotFound(f"{repo.working_dir} has no commits yet; nothing to revert")
        full = _resolve(repo, sha)
        _, parents, _ = _run(repo, "rev-list", "--parents", "-n", "1", full)
        if len(parents.split()) > 2:
            raise InvalidInput(f"{full[:12]} is a merge commit; revert its parts by hand with git")
        subject = _run(repo, "log", "-1", "--format=%s", full)[1].strip()
        before = _head(repo)
        status, _, err = _run(repo, "revert", "--no-commit", full, check=False)
        if status != 0:
            files = _unmerged(repo)
            _run(repo, "revert", "--abort", check=False)
            _run(repo, "reset", "-q", "--hard", before or "HEAD", check=False)
            if files:
                raise RevertConflict(
                    f"commit {full[:12]} cannot be undone cleanly: later commits changed the "
                    f"same lines in {', '.join(files)}. Nothing was changed; edit those files "
                    "by hand instead.",
                    files,
                )
            raise SkillsRepoError(f"could not revert {full[:12]}: {err.strip()}")
        status, _, _ = _run(repo, "diff", "--cached", "--quiet", check=False)
        if status == 0:
            _run(repo, "revert", "--quit", check=False)
            raise SkillsRepoError(
                f"commit {full[:12]} has nothing left to undo (its changes are already gone)"
            )
        msg = (
            f'Revert "{subject}"\n\nThis reverts commit {full}.\n\n'
            f"Acontext-Kind: revert\nAcontext-Reverts: {full}\n"
        )
        _run(repo, "commit", "--no-gpg-sign", "-q", "-m", msg, author=_user_identity(repo))
        _run(repo, "revert", "--quit", check=False)
        new = _head(repo)
        assert new is not None
        return new


# --- remote --------------------------------------------------------------------------------


def set_remote(repo_path: Path | str, url: str) -> None:
    """Point `origin` at `url` (added, or changed when it exists)."""
    url = url.strip()
    if not url or url.startswith("-") or any(c.isspace() for c in url):
        raise InvalidInput(f"{url!r} is not a git remote URL; pass e.g. git@host:team/skills.git")
    with _opened(repo_path) as repo:
        if REMOTE in [r.name for r in repo.remotes]:
            _run(repo, "remote", "set-url", REMOTE, url)
        else:
            _run(repo, "remote", "add", REMOTE, url)


def _require_remote(repo: git.Repo) -> None:
    if REMOTE not in [r.name for r in repo.remotes]:
        raise NoRemote(
            f"the skills repository {repo.working_dir} has no remote; set one first "
            "(acontext-mcp skills remote URL)"
        )


def _fetch(repo: git.Repo) -> None:
    status, _, err = _run(repo, "fetch", "-q", REMOTE, check=False)
    if status != 0:
        raise SkillsRepoError(
            f"cannot reach the skills remote {REMOTE}: {err.strip()}; check the URL and access"
        )


# git modes a skill never has: a symbolic link (could point at ~/.ssh/id_rsa) and a gitlink
# (a submodule: another repository, checked out by other rules).
SPECIAL_MODES = {"120000": "symbolic link", "160000": "submodule"}


def _special_entries(repo: git.Repo, sha: str) -> list[str]:
    """`path (kind)` for every entry of commit `sha`'s tree with a mode in SPECIAL_MODES."""
    _, out, _ = _run(repo, "ls-tree", "-r", "-z", "--full-tree", sha)
    found = []
    for record in filter(None, out.split("\0")):
        meta, _, path = record.partition("\t")
        mode = meta.split(" ", 1)[0]
        if mode in SPECIAL_MODES:
            found.append(f"{path} ({SPECIAL_MODES[mode]})")
    return found


def _refuse_special(repo: git.Repo, upstream: str, remote_sha: str, old_ref: str | None) -> None:
    """Raise UnsafeRemote, the tracking ref put back, when the fetched tree holds a link or a
    submodule: checked out, a link in the skills folder would be read as a skill."""
    special = _special_entries(repo, remote_sha)
    if not special:
        return
    if old_ref is None:
        _run(repo, "update-ref", "-d", upstream, check=False)
    else:
        _run(repo, "update-ref", upstream, old_ref, check=False)
    more = f" and {len(special) - 10} more" if len(special) > 10 else ""
    shown = ", ".join(special[:10]) + more
    raise UnsafeRemote(
        f"pull refused: {REMOTE} ({remote_sha[:12]}) holds entries a skill never has: {shown}. "
        "Nothing was changed. A link could make a skill read any file on this machine; ask "
        "whoever pushed them to replace each with the real file (git rm the link, add the "
        "file, commit, push), then pull again.",
        special,
    )


def pull(repo_path: Path | str) -> dict[str, Any]:
    """Fetch `origin` and rebase local commits onto its branch of the same name.

    Uncommitted user edits are committed as the user's first. A conflicting rebase is
    aborted, the repository is left exactly as before, and SyncConflict names the files. A
    remote tree holding symbolic links or submodules is refused before anything is checked
    out (UnsafeRemote names them; the tracking ref is put back).
    """
    protect_user_edits(repo_path)
    with _opened(repo_path) as repo:
        _assert_idle(repo)
        _require_remote(repo)
        branch = _branch(repo)
        upstream = f"refs/remotes/{REMOTE}/{branch}"
        status, out, _ = _run(repo, "rev-parse", "--verify", "-q", upstream, check=False)
        old_ref = out.strip() if status == 0 else None
        _fetch(repo)
        status, out, _ = _run(repo, "rev-parse", "--verify", "-q", upstream, check=False)
        if status != 0:
            return {
                "branch": branch,
                "status": "remote-empty",
                "before": _head(repo),
                "after": _head(repo),
                "new_commits": 0,
            }
        remote_sha = out.strip()
        _refuse_special(repo, upstream, remote_sha, old_ref)
        before = _head(repo)
        if before is None:
            _run(repo, "reset", "-q", "--hard", remote_sha)
        else:
            status, _, err = _run(repo, "rebase", "-q", upstream, check=False)
            if status != 0:
                files = _unmerged(repo)
                _run(repo, "rebase", "--abort", check=False)
                if _head(repo) != before:  # belt and braces: never leave a moved branch
                    _run(repo, "reset", "-q", "--hard", before, check=False)
                if files:
                    raise SyncConflict(
                        f"pull stopped: your commits and {REMOTE}/{branch} both change "
                        f"{', '.join(files)}. Nothing was changed: your commits are intact at "
                        f"{before[:12]} and the remote is untouched. Resolve by hand in "
                        f"{repo.working_dir} (git pull --rebase {REMOTE} {branch}, fix the "
                        "files, git rebase --continue), then push.",
                        files,
                    )
                raise SkillsRepoError(f"pull failed, nothing changed: {err.strip()}")
        after = _head(repo)
        count = 0
        if after and before:
            count = int(_run(repo, "rev-list", "--count", f"{before}..{after}")[1].strip())
        elif after:
            count = int(_run(repo, "rev-list", "--count", after)[1].strip())
        return {
            "branch": branch,
            "status": "ok",
            "before": before,
            "after": after,
            "new_commits": count,
        }


def push(repo_path: Path | str) -> dict[str, Any]:
    """Push the current branch to `origin` (fast-forward only, never forced).

    Uncommitted edits are not pushed; they are listed under `uncommitted`.
    """
    with _opened(repo_path) as repo:
        _assert_idle(repo)
        _require_remote(repo)
        branch = _branch(repo)
        head = _head(repo)
        uncommitted = _dirty(repo)
        if head is None:
            return {
                "branch": branch,
                "status": "nothing-to-push",
                "sha": None,
                "uncommitted": uncommitted,
            }
        ref = f"refs/heads/{branch}"
        status, out, err = _run(
            repo, "push", "--porcelain", "-u", REMOTE, f"{ref}:{ref}", check=False
        )
        if status != 0:
            text = f"{out}\n{err}"
            if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
                raise PushRejected(
                    f"{REMOTE}/{branch} has commits this machine does not have; run "
                    "`acontext-mcp skills pull` first, then push again (never forced)"
                )
            raise SkillsRepoError(f"push to {REMOTE} failed: {err.strip() or out.strip()}")
        return {"branch": branch, "status": "ok", "sha": head, "uncommitted": uncommitted}


# --- one learner at a time ----------------------------------------------------------------


@contextlib.contextmanager
def learner_lock(repo_path: Path | str, timeout: float = 0.0) -> Iterator[Path]:
    """Hold `<repo>/.git/acontext.lock` (fcntl) for one learner run; wait up to `timeout` s.

    Raises LearnerBusy when another holder keeps it past the timeout. The lock is released
    when the block ends or the process dies.
    """
    with _opened(repo_path) as repo:
        lock_path = Path(repo.git_dir) / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(0.0, timeout)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    raise LearnerBusy(
                        f"another learner run (pid {holder}) is working on the skills "
                        f"repository {Path(repo_path)}; wait for it to finish and retry"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield lock_path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

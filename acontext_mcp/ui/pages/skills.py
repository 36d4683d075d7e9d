"""The Skills pages: the skills tree per learning space, each file rendered, each skill's
history with provenance, a commit's diff, usage stats, and the proposals queue.

Skill and file names are untrusted (links, `..`, odd bytes): folders are listed and files read
only through skills/contained.py, which never follows a link; a name that is not UTF-8 is
counted but not linked. Git gives history and diffs (paged, and cut at MAX_DIFF_BYTES with a
notice); the store gives spaces and usage through one read snapshot. Accept and reject are the
CLI's use cases (`acontext-mcp skills accept/reject` -> learn/review.py) on their own
connection; a refusal or conflict is shown on the proposal's page, and nothing is lost.

URLs: /skills (?space=, ?q=, ?after=/?before= a name), /skills/s/NAME, /skills/s/NAME/files/PATH,
/skills/s/NAME/history (?before=SHA), /skills/commits/SHA, /skills/stats (?days=),
/skills/proposals (?all=1), /skills/proposals/ID and its POST /accept and /reject. Skills sit
under /s/ so that no skill name can shadow the fixed pages; /skills/NAME redirects there. No
GET creates the skills repository (`_need_repo`).
"""

from __future__ import annotations

import os
import posixpath
import re
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError, InvalidInput, NotFound
from acontext_mcp.skills import SKILL_FILE, contained, history, proposals, repo
from acontext_mcp.skills.catalog import MAX_FILES
from acontext_mcp.skills.skillmd import parse_skill_md
from acontext_mcp.store import learning
from acontext_mcp.store.ui_queries import read_snapshot
from acontext_mcp.ui import render as render_module
from acontext_mcp.ui.app_state import settings_of
from acontext_mcp.ui.paging import DEFAULT_SIZE, MAX_SIZE
from acontext_mcp.ui.render import query_with, render

MAX_FILE_BYTES = 1024 * 1024  # as catalog.MAX_FILE_BYTES: larger files are named, not shown
MAX_DIFF_BYTES = 256 * 1024  # a diff past this is cut, with a notice
MAX_TREE_FILES = 50  # files listed per skill in the tree
HISTORY_SIZE = 30
MAX_COMMIT_FILES = 300  # files listed on a commit's page
MAX_REASON_CHARS = 2000
MAX_PROPOSALS = 300  # rows of the queue: open ones first, then the newest decided
SHA = re.compile(r"^[0-9a-f]{4,40}$")


# --- helpers ---------------------------------------------------------------------------------


def _root(settings: Settings) -> Path:
    return Path(settings.skills_dir)


def _has_repo(root: Path) -> bool:
    """GET never creates anything: without a repository the pages say how to make one."""
    return (root / ".git").exists()


def _need_repo(root: Path) -> None:
    if not _has_repo(root):
        raise NotFound("no skills repository yet: `acontext-mcp skills init` creates it")


def _shown(name: str) -> bool:
    """A name that can go into a URL and a page as it is (UTF-8, no control characters)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)


def _skill_name(root: Path, name: str) -> str:
    if not contained.is_skill_folder(root, name):
        raise NotFound(f"no skill folder {name!r} in the skills directory: /skills lists them")
    return name


def _describe(root: Path, name: str) -> dict[str, Any]:
    """A skill's front matter, body and description, read through the contained reader."""
    info: dict[str, Any] = {"folder": name, "name": name, "description": "", "front": {}}
    try:
        data = contained.read_bytes(root, f"{name}/{SKILL_FILE}", max_bytes=MAX_FILE_BYTES)
        front, body = parse_skill_md(data.decode("utf-8"))
    except (AcontextError, UnicodeDecodeError, OSError) as exc:
        info["error"] = f"{SKILL_FILE} unreadable: {exc}"
        return info
    info["front"] = {str(k): v for k, v in front.items()}
    info["body"] = body
    if isinstance(front.get("name"), str) and front["name"].strip():
        info["name"] = front["name"].strip()
    if front.get("description") is not None:
        info["description"] = str(front["description"]).strip()
    return info


def _files(root: Path, name: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Regular files of a skill (links and special files are counted as skipped, never read)."""
    files: list[dict[str, Any]] = []
    skipped = 0
    for rel, st in contained.walk(root / name):
        if st is None or not _shown(rel):
            skipped += 1
            continue
        if len(files) < limit:
            files.append({"path": rel, "size": st.st_size})
    return files, skipped


def _skill_markdown(text: str, name: str, here: str = "") -> Markup:
    """A skill file's Markdown through the dashboard's safe renderer, with links relative to
    the file (`references/api.md`) pointed at that file's page in the same skill; a link that
    climbs out of the skill, or has a scheme, is left as the renderer makes it."""
    md = render_module._markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    for token in tokens:
        for child in token.children or []:
            href = child.attrGet("href") if child.type == "link_open" else None
            if not isinstance(href, str) or not href or href.startswith(("/", "#", "?")):
                continue
            path, _, fragment = href.partition("#")
            if ":" in path.split("/", 1)[0] or "?" in path or not path:
                continue  # a scheme (safe_link already vetted it), or a query: keep as is
            target = posixpath.normpath(posixpath.join(posixpath.dirname(here), unquote(path)))
            if target.startswith("..") or target == ".":
                continue
            where = f"/skills/s/{quote(name, safe='')}/files/{quote(target)}"
            child.attrSet("href", where + (f"#{fragment}" if fragment else ""))
    return Markup(md.renderer.render(tokens, md.options, env))


def _size(request: Request, default: int) -> int:
    raw = request.query_params.get("size")
    if not raw:
        return default
    try:
        size = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"size must be a whole number (got {raw!r})") from exc
    if size < 1:
        raise InvalidInput(f"size must be at least 1 (got {size})")
    return min(size, MAX_SIZE)


def _diff_lines(text: str) -> list[tuple[str, str]]:
    """(css class, line) per line of a patch, so +/- lines can be styled (text stays text).
    Inside a hunk the first character decides: a removed `---` front matter line is a
    deletion, not a file header."""
    out = []
    in_hunk = False
    for line in text.splitlines():
        if line.startswith("diff "):
            in_hunk = False
        if line.startswith("@@"):
            kind, in_hunk = "hunk", True
        elif not in_hunk:
            kind = "meta"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def _cut(text: str) -> tuple[str, bool]:
    data = text.encode("utf-8", errors="replace")
    if len(data) <= MAX_DIFF_BYTES:
        return text, False
    kept = data[:MAX_DIFF_BYTES].decode("utf-8", errors="ignore")
    return kept[: kept.rfind("\n") + 1], True


def _links(prov: dict[str, Any], key: str) -> list[str]:
    value = prov.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- the tree --------------------------------------------------------------------------------


def _folder_names(root: Path) -> list[str]:
    """Real (not linked), not hidden folders under the skills root, by name: one scandir and no
    stat per folder, so 10,000 skills cost little; whether a folder holds a SKILL.md is checked
    for the folders a page shows (`_take`)."""
    try:
        with os.scandir(root) as entries:
            return sorted(
                e.name
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            )
    except OSError:
        return []


def _take(root: Path, names: list[str], start: int, step: int, count: int) -> list[str]:
    """Up to `count` skill folders of `names` from index `start`, walking by `step` (+1/-1)."""
    found: list[str] = []
    i = start
    while 0 <= i < len(names) and len(found) < count:
        if contained.is_skill_folder(root, names[i]):
            found.append(names[i])
        i += step
    return found


def index(request: Request) -> Response:
    settings = settings_of(request)
    root = _root(settings)
    q = request.query_params
    space = q.get("space") or None
    needle = (q.get("q") or "").strip().lower()
    size = _size(request, DEFAULT_SIZE)
    with read_snapshot(settings) as conn:
        spaces = learning.list_spaces(conn)
        owners = learning.skill_owners(conn)
    if space is not None and space not in {s["name"] for s in spaces}:
        raise NotFound(f"no learning space {space!r}: the space links on /skills list them")
    folders = _folder_names(root)
    odd = sum(1 for n in folders if not _shown(n))
    names = [
        n
        for n in folders
        if _shown(n)
        and (space is None or owners.get(n, space) == space)
        and (not needle or needle in n.lower())
    ]
    after, before = q.get("after"), q.get("before")
    if after is not None and before is not None:
        raise InvalidInput("give ?before= or ?after=, not both")
    if before is not None:
        end = bisect_left(names, before)
        found = _take(root, names, end - 1, -1, size + 1)
        shown = found[:size][::-1]
        has_prev, has_next = len(found) > size, True
    else:
        start = bisect_right(names, after) if after is not None else 0
        found = _take(root, names, start, 1, size + 1)
        shown = found[:size]
        has_prev, has_next = start > 0, len(found) > size
    skills = []
    for name in shown:
        info = _describe(root, name)
        info["owner"] = owners.get(name)
        info["files"], info["skipped"] = _files(root, name, MAX_TREE_FILES)
        skills.append(info)
    return render(
        request,
        "skills/index.html",
        title="Skills",
        has_repo=_has_repo(root),
        root=str(root),
        spaces=spaces,
        space=space,
        needle=q.get("q") or "",
        skills=skills,
        total=len(names),
        odd=odd,
        prev_url=query_with(request, before=shown[0], after=None) if shown and has_prev else None,
        next_url=query_with(request, after=shown[-1], before=None) if shown and has_next else None,
        first_url=query_with(request, after=None, before=None) if after or before else None,
        pending=_pending_count(root),
    )


def _pending_count(root: Path) -> int:
    if not _has_repo(root):
        return 0
    try:
        return len(proposals.list_proposals(root))
    except AcontextError:
        return 0


# --- one skill -------------------------------------------------------------------------------


def skill(request: Request) -> Response:
    from acontext_mcp.learn.skill_usage import skill_usage

    settings = settings_of(request)
    root = _root(settings)
    name = _skill_name(root, request.path_params["name"])
    info = _describe(root, name)
    info["html"] = _skill_markdown(info.get("body") or "", name, SKILL_FILE)
    files, skipped = _files(root, name, MAX_FILES)
    with read_snapshot(settings) as conn:
        owner = learning.skill_owners(conn).get(name)
        usage = next((u for u in skill_usage(conn, settings, skill=name) if u.skill == name), None)
    commits = repo.log(root, limit=6, path=f"{name}/") if _has_repo(root) else []
    return render(
        request,
        "skills/skill.html",
        title=f"Skill {name}",
        skill=info,
        files=files,
        skipped=skipped,
        owner=owner,
        usage=usage,
        commits=commits[:5],
        more_history=len(commits) > 5,
    )


def skill_redirect(request: Request) -> Response:
    """`/skills/NAME` -> the skill's page (`/skills/s/NAME`), for links written that way."""
    name = _skill_name(_root(settings_of(request)), request.path_params["name"])
    return RedirectResponse(request.url_for("skill", name=name).path, status_code=307)


def skill_file(request: Request) -> Response:
    settings = settings_of(request)
    root = _root(settings)
    name = _skill_name(root, request.path_params["name"])
    rel = request.path_params["path"]
    data, st = contained.read_file(root, f"{name}/{rel}", max_bytes=MAX_FILE_BYTES)
    binary = b"\x00" in data[:8192]
    text = None if binary else data.decode("utf-8", errors="replace")
    markdown = rel.lower().endswith((".md", ".markdown"))
    return render(
        request,
        "skills/file.html",
        title=f"{name}/{rel}",
        skill_name=name,
        path=rel,
        size=st.st_size,
        text=text,
        html=_skill_markdown(text, name, rel) if markdown and text is not None else None,
    )


def skill_history(request: Request) -> Response:
    settings = settings_of(request)
    root = _root(settings)
    name = _skill_name(root, request.path_params["name"])
    size = _size(request, HISTORY_SIZE)
    before = request.query_params.get("before")
    if before is not None and not SHA.match(before):
        raise InvalidInput("before must be a commit sha: follow the page links")
    commits: list[dict[str, Any]] = []
    if _has_repo(root):
        # From the cursor commit (shown last on the previous page) on: drop it, keep the rest.
        found = repo.log(root, limit=size + 2, start=before, path=f"{name}/")
        commits = found[1:] if before is not None else found
    more = len(commits) > size
    commits = commits[:size]
    return render(
        request,
        "skills/history.html",
        title=f"History of {name}",
        skill_name=name,
        commits=commits,
        older_url=query_with(request, before=commits[-1]["sha"]) if more and commits else None,
        newest_url=query_with(request, before=None) if before else None,
    )


# --- a commit --------------------------------------------------------------------------------


def commit(request: Request) -> Response:
    settings = settings_of(request)
    root = _root(settings)
    sha = request.path_params["sha"].lower()
    if not SHA.match(sha):
        raise InvalidInput(f"{sha[:50]!r} is not a commit sha (4-40 hex digits)")
    _need_repo(root)
    found = repo.log(root, limit=1, start=sha)
    if not found:
        raise NotFound(f"no commit {sha} in the skills repository")
    entry = found[0]
    patch, cut = history.commit_patch(root, entry["sha"], max_bytes=MAX_DIFF_BYTES)
    changed, total = history.commit_files(root, entry["sha"], limit=MAX_COMMIT_FILES)
    skills = sorted({p.split("/", 1)[0] for _, p in changed if "/" in p})
    return render(
        request,
        "skills/commit.html",
        title=f"Commit {entry['sha'][:12]}",
        entry=entry,
        sessions=_links(entry["provenance"], "session_id"),
        tasks=_links(entry["provenance"], "task_id"),
        reverts=_links(entry["provenance"], "reverts"),
        proposal=entry["provenance"].get("proposal"),
        changed=changed,
        total_files=total,
        skills=[s for s in skills if _shown(s)],
        lines=_diff_lines(patch),
        cut=cut,
        max_diff=MAX_DIFF_BYTES,
        full_command=f"acontext-mcp skills diff {entry['sha'][:12]}",
    )


# --- usage -----------------------------------------------------------------------------------


def stats(request: Request) -> Response:
    from acontext_mcp.learn.skill_usage import skill_usage

    settings = settings_of(request)
    raw = request.query_params.get("days")
    days: int | None = None
    if raw:
        try:
            days = int(raw)
        except ValueError as exc:
            raise InvalidInput(f"days must be a whole number (got {raw!r})") from exc
        if days < 1:
            raise InvalidInput(f"days must be at least 1 (got {days})")
    with read_snapshot(settings) as conn:
        used = skill_usage(conn, settings, days=days, used_only=True)
    # Never used: named from one listing, not read (10,000 skills stay cheap); their sizes are
    # on each skill's page and in `acontext-mcp skills stats`.
    seen = {r.skill for r in used}
    unused = [n for n in _folder_names(_root(settings)) if n not in seen and _shown(n)]
    return render(
        request, "skills/stats.html", title="Skill usage", days=days, used=used, unused=unused
    )


# --- proposals -------------------------------------------------------------------------------


def proposal_list(request: Request) -> Response:
    settings = settings_of(request)
    root = _root(settings)
    every = request.query_params.get("all") == "1"
    states = proposals.STATES if every else ("pending", "stale")
    found = proposals.list_proposals(root, states) if _has_repo(root) else []
    found.sort(key=lambda p: (p.state not in ("pending", "stale"), -p.created_at))
    return render(
        request,
        "skills/proposals.html",
        title="Proposals",
        proposals=found[:MAX_PROPOSALS],
        more=max(0, len(found) - MAX_PROPOSALS),
        every=every,
    )


def _proposal_page(
    request: Request, pid: str, *, status: int = 200, error: str | None = None
) -> Response:
    from acontext_mcp.learn import review

    settings = settings_of(request)
    _need_repo(_root(settings))
    with read_snapshot(settings) as conn:
        shown = review.show(conn, settings, pid)
    diff, cut = _cut(shown["diff"])
    q = request.query_params
    accepted = q.get("accepted")
    return render(
        request,
        "skills/proposal.html",
        status=status,
        title=f"Proposal {shown['id']}",
        p=shown,
        lines=_diff_lines(diff),
        cut=cut,
        max_diff=MAX_DIFF_BYTES,
        full_command=f"acontext-mcp skills show-proposal {shown['id']}",
        error=error,
        accepted=accepted if accepted and SHA.match(accepted) else None,
        rejected=q.get("rejected") == "1",
        open=shown["state"] in ("pending", "stale"),
    )


def proposal(request: Request) -> Response:
    return _proposal_page(request, request.path_params["pid"])


def _decide(settings: Settings, pid: str, action: str, reason: str | None, relearn: bool) -> Any:
    """The CLI's path: learn/review.py on a connection of its own (it writes)."""
    from acontext_mcp.learn import review
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)
    try:
        if action == "accept":
            return review.accept(conn, settings, pid)
        return review.reject(conn, settings, pid, reason, relearn=relearn)
    finally:
        conn.close()


async def decide(request: Request) -> Response:
    pid = request.path_params["pid"]
    action = request.path_params["action"]
    if action not in ("accept", "reject"):
        raise NotFound(f"no action {action!r}: a proposal is accepted or rejected")
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    reason = " ".join(form.get("reason", [""])[-1].split())[:MAX_REASON_CHARS]
    relearn = form.get("relearn", [""])[-1] == "1"
    settings = settings_of(request)
    _need_repo(_root(settings))
    try:
        done = await run_in_threadpool(_decide, settings, pid, action, reason or None, relearn)
    except NotFound:
        raise
    except AcontextError as exc:
        # Refused (already decided) or a conflict: the proposal and main are as they were.
        code = 400 if isinstance(exc, InvalidInput) else 409
        return await run_in_threadpool(_proposal_page, request, pid, status=code, error=str(exc))
    target = f"/skills/proposals/{done['proposal']}"
    if action == "accept":
        target += f"?accepted={done['commit']}"
    else:
        target += "?rejected=1"
    return RedirectResponse(target, status_code=303)


routes: list[BaseRoute] = [
    Route("/skills", index, name="skills"),
    Route("/skills/stats", stats, name="skill_stats"),
    Route("/skills/commits/{sha}", commit, name="skill_commit"),
    Route("/skills/proposals", proposal_list, name="proposals"),
    Route("/skills/proposals/{pid}", proposal, name="proposal"),
    Route(
        "/skills/proposals/{pid}/{action:str}",
        decide,
        methods=["POST"],
        name="proposal_decide",
    ),
    Route("/skills/s/{name}", skill, name="skill"),
    Route("/skills/s/{name}/history", skill_history, name="skill_history"),
    Route("/skills/s/{name}/files/{path:path}", skill_file, name="skill_file"),
    Route("/skills/{name}", skill_redirect),  # /skills/NAME as other pages may write it
]

"""The dashboard's Skills and Learning pages on a large skills repository: time per page.

Setup: a real skills git repository with `--skills` skills (SKILL.md plus a reference file
each) added in one commit (its diff is far over the page's cap), then `--history` learning
commits with provenance trailers made with `git fast-import`: every `--every`-th touches
skill-00000, the rest other skills (so its history is a path-limited walk of a long log), and
a pending proposal; a store with `--sessions` sessions that learned (a tenth failed; each
with its done distillation job), `--uses` skill uses of 300 skills, and LLM calls. The
dashboard runs on uvicorn on 127.0.0.1 (tests/support/ui_client.py); each page is fetched
`--runs` times over HTTP and the median and worst wall times are printed.

    python bench/bench_ui_skills.py [--skills 10000] [--history 5000] [--every 3]
                                    [--sessions 2000] [--uses 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.skills import proposals, repo  # noqa: E402
from acontext_mcp.store import learning, skill_uses, usage  # noqa: E402
from acontext_mcp.store.db import atomic, open_db  # noqa: E402
from tests.support.ui_client import serve_ui  # noqa: E402

BODY = "- Run `make test` before pushing (verified: exit 0)\n" * 30


def build_skills(root: Path, skills: int) -> None:
    repo.ensure_repo(root).close()
    for n in range(skills):
        folder = root / f"skill-{n:05d}"
        (folder / "references").mkdir(parents=True)
        head = f"---\nname: skill-{n:05d}\ndescription: Skill {n} for the bench.\n---\n\n"
        (folder / "SKILL.md").write_text(head + f"# Skill {n}\n\n" + BODY)
        (folder / "references" / "notes.md").write_text("a note line\n" * 40)
    repo.protect_user_edits(root)


def build_history(root: Path, commits: int, every: int, skills: int) -> None:
    """`commits` learning commits on main through one `git fast-import` stream."""
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    out: list[bytes] = []
    at = int(time.time()) - commits * 60
    for i in range(commits):
        n = 0 if i % every == 0 else 1 + i % (skills - 1)
        path = f"skill-{n:05d}/SKILL.md"
        text = (
            f"---\nname: skill-{n:05d}\ndescription: Skill {n} for the bench.\n---\n\n"
            f"# Skill {n}\n\n{BODY}- learned step {i} (verified: exit 0)\n"
        ).encode()
        message = (
            f"Learn: step {i}\n\nAcontext-Kind: learning\nAcontext-Session: s{i % 500}\n"
            f"Acontext-Task: {i + 1}\n"
        ).encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"committer Bench <bench@example.com> {at + i * 60} +0000\n".encode())
        out.append(f"data {len(message)}\n".encode() + message)
        if i == 0:
            out.append(f"from {head}\n".encode())
        out.append(f"M 100644 inline {path}\ndata {len(text)}\n".encode() + text + b"\n")
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet", "--force"],
        input=b"".join(out),
        check=True,
    )
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True)


def build_store(settings: Settings, sessions: int, uses: int) -> None:
    conn = open_db(settings)
    now = time.time()
    try:
        with atomic(conn):
            learning.ensure_space(conn, "default")
            for s in range(sessions):
                sid = f"s{s}"
                conn.execute(
                    "INSERT INTO sessions (id, agent, project_dir, configs, created_at, "
                    "updated_at) VALUES (?, 'claude-code', '/p', '{}', ?, ?)",
                    (sid, now - s * 60, now - s * 60),
                )
                task = conn.execute(
                    'INSERT INTO tasks (session_id, "order", description, status, '
                    "created_at, updated_at) VALUES (?, 1, 'a task', 'success', ?, ?)",
                    (sid, now, now),
                ).lastrowid
                made = learning.add_learning(
                    conn, session_id=sid, task_id=task, space="default", kind="success",
                    text="a lesson", outcome="verified_success",
                )  # fmt: skip
                failed = s % 10 == 0
                conn.execute(  # its distillation job, done (the worker keeps done jobs)
                    "INSERT INTO jobs (kind, payload, dedup_key, status, attempts, run_after, "
                    "created_at, updated_at) VALUES ('learn_task', ?, ?, 'done', 1, ?, ?, ?)",
                    (
                        f'{{"task_id": {task}, "session_id": "{sid}"}}',
                        f"learn:{task}",
                        now - s * 60,
                        now - s * 60,
                        now - s * 60,
                    ),
                )
                conn.execute(
                    "UPDATE learnings SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                    (
                        "failed" if failed else "learned",
                        "the model timed out" if failed else None,
                        now - s * 60,
                        made,
                    ),
                )
            for u in range(uses):  # skill uses: 300 skills used, the rest never
                skill_uses.record_use(
                    conn, f"skill-{u % 300:05d}", "read", session_id=f"s{u % sessions}",
                    at=now - (u % 30) * 86400,
                )  # fmt: skip
            for _day in range(30):
                for purpose in ("task_extraction", "distillation", "skill_learning"):
                    usage.record_call(
                        conn, provider="anthropic", model="claude-haiku", purpose=purpose,
                        outcome="ok", input_tokens=1000, output_tokens=200, duration_ms=300.0,
                    )  # fmt: skip
            conn.execute("UPDATE llm_calls SET day = date(day, '-' || (id % 30) || ' days')")
    finally:
        conn.close()


def timed(client: object, url: str, runs: int) -> tuple[float, float, int, int]:
    times = []
    status = size = 0
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(url)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
        status, size = answer.status_code, len(answer.content)
    return statistics.median(times) * 1000, max(times) * 1000, status, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skills", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=5_000)
    parser.add_argument("--every", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=2_000)
    parser.add_argument("--uses", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        started = time.perf_counter()
        build_skills(settings.skills_dir, args.skills)
        build_history(settings.skills_dir, args.history, args.every, args.skills)
        path = "skill-00000/SKILL.md"
        parent, current = proposals.head_files(settings.skills_dir, [path])
        pid = proposals.create(
            settings.skills_dir, "Learn: a proposal", {path: (current[path] or "") + "- new\n"},
            parent=parent, session_ids=["s1"], task_ids=["1"],
        ).id  # fmt: skip
        build_store(settings, args.sessions, args.uses)
        first = subprocess.run(
            ["git", "-C", str(settings.skills_dir), "rev-list", "--max-parents=0", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.split()[0]  # fmt: skip
        print(
            f"setup {time.perf_counter() - started:.1f} s: {args.skills} skills, "
            f"{args.history} commits, {args.sessions} learning sessions"
        )
        with serve_ui(settings) as ui:
            client = ui.client()
            deep = "/skills/s/skill-00000/history"
            for _ in range(20):  # 20 pages into the history of skill-00000
                page = client.get(deep).text
                found = re.search(r'href="([^"]+)" rel="next"', page)
                if not found:
                    break
                deep = html.unescape(found.group(1))
            pages = [
                ("skills tree, first page", "/skills"),
                ("skills tree, middle page", f"/skills?after=skill-{args.skills // 2:05d}"),
                ("skills tree, name filter", "/skills?q=skill-099"),
                ("one skill (usage, recent commits)", "/skills/s/skill-00000"),
                ("a skill file", "/skills/s/skill-00000/files/references/notes.md"),
                ("history, first page", "/skills/s/skill-00000/history"),
                ("history, 20 pages in", deep),
                ("commit of every skill (diff cut)", f"/skills/commits/{first}"),
                ("proposals queue", "/skills/proposals"),
                ("a proposal", f"/skills/proposals/{pid}"),
                ("usage stats (300 used of all)", "/skills/stats"),
                ("learning, first page", "/learning"),
                ("learning, failures", "/learning?failed=1"),
                ("usage ledger, 30 days", "/learning/usage?days=30"),
            ]
            width = max(len(label) for label, _ in pages)
            print(f"{'page':<{width}}  median ms  worst ms  status  KB")
            for label, url in pages:
                median, worst, status, size = timed(client, url, args.runs)
                print(f"{label:<{width}}  {median:9.1f}  {worst:8.1f}  {status:6}  {size // 1024}")


if __name__ == "__main__":
    main()

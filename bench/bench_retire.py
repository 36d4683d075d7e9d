"""What the retirement pass costs: `skills retire --dry-run` over a large skills repository.

It runs after learning at most once a day (learn/retire.py maybe_run) and holds no lock while
it only reviews, so its cost is a background cost; this says how large. It builds a skills
repository of N learned skills (one learning commit each, as the learner makes them) plus
project runbooks naming files of a real temp project, and a store of S sessions across P
projects with tasks, verified outcomes and skill uses, then times `retire.review` (git log of
the whole history, per-skill queries, the stale check) in-process.

    python bench/bench_retire.py [--skills 200] [--sessions 3000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _build(root: Path, skills: int, sessions: int, projects: int) -> tuple[object, object]:
    from acontext_mcp.config import Settings
    from acontext_mcp.skills import repo
    from acontext_mcp.skills.defaults import prepare
    from acontext_mcp.store import skill_uses
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.sessions import ensure_session
    from acontext_mcp.store.tasks import insert_task, set_outcome

    settings = Settings(home=root / "home", skills_dir=root / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    start = time.time() - 30 * 86400
    conn.execute("UPDATE schema_migrations SET applied_at = ?", (start - 100,))
    prepare(settings)
    dirs = []
    for p in range(projects):
        project = root / f"proj-{p}"
        (project / "scripts").mkdir(parents=True)
        (project / "scripts" / "build.sh").write_text("")
        (project / "Makefile").write_text("test:\n\tpytest\nlint:\n\truff check .\n")
        dirs.append(str(project))
        book = settings.skills_dir / "project-runbooks" / "projects" / f"proj-{p}.md"
        book.parent.mkdir(parents=True, exist_ok=True)
        tail = "(seen 2×, 2026-11-02 – 2026-12-01)"
        book.write_text(
            f"# proj-{p}\n\nPath: `{project}`\n\n## Test\n"
            + "".join(
                f"- **Step {i}**: `make test` then `scripts/build.sh` {tail}\n" for i in range(20)
            )
            + f"- **Old**: `make test-all` {tail}\n"
        )
    rng = random.Random(7)
    names = [f"learned-{i:04d}" for i in range(skills)]
    for i, name in enumerate(names):
        folder = settings.skills_dir / name
        folder.mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Bench skill {i}; use when measuring.\n---\n# B\n"
        )
        ensure_session(conn, f"teach-{i}", project_dir=rng.choice(dirs), at=start - 50)
        repo.commit_learning(
            settings.skills_dir,
            f"Learn {name}",
            session_id=f"teach-{i}",
            task_id=i,
            paths=[name],
        )
    repo.commit_learning(
        settings.skills_dir, "Runbooks", session_id=None, task_id=None, paths=["project-runbooks"]
    )
    for s in range(sessions):
        sid = f"s{s}"
        ensure_session(conn, sid, project_dir=rng.choice(dirs), at=start + s)
        task = insert_task(conn, sid, "work", status="success")
        outcome = "verified_failure" if rng.random() < 0.2 else "verified_success"
        set_outcome(conn, task["id"], outcome)
        for name in rng.sample(names, 3):
            skill_uses.record_use(conn, name, "read", session_id=sid, at=start + s)
    conn.commit()
    return settings, conn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skills", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from acontext_mcp.learn import retire

    with tempfile.TemporaryDirectory(prefix="bench-retire-") as tmp:
        built = time.perf_counter()
        settings, conn = _build(Path(tmp), args.skills, args.sessions, args.projects)
        print(
            f"built {args.skills} learned skills, {args.projects} runbooks, "
            f"{args.sessions} sessions in {time.perf_counter() - built:.1f} s"
        )
        times, found = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            found = retire.review(conn, settings)  # type: ignore[arg-type]
            times.append((time.perf_counter() - started) * 1000)
        reasons: dict[str, int] = {}
        for f in found:
            reasons[f.reason] = reasons.get(f.reason, 0) + 1
        print(f"findings: {reasons}")
        print(
            f"review: median {statistics.median(times):.0f} ms, min {min(times):.0f} ms "
            f"over {args.runs} runs"
        )
        conn.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

"""What review before use costs: proposals against direct learning commits, and the brief's count.

(a) Making one change: `proposals.create` (plumbing: temporary index, hash-object,
    commit-tree, update-ref) against `repo.commit_learning` (write the file, add, commit), per
    change, in a skills repository of `--skills` skills.
(b) `skills proposals`: `list_proposals` with `--proposals` waiting (one for-each-ref, one
    ls-tree per proposal for stale detection).
(c) `accept` of one proposal (lock, user-edit check, cherry-pick, commit, ref move).
(d) The SessionStart brief's added cost: `proposal_refs.waiting_count` with `--proposals`
    waiting, as loose ref files and after `git pack-refs` (no git process either way).

Prints the median of `--runs` runs for each.

    python bench/bench_proposals.py [--skills 20] [--proposals 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from acontext_mcp.skills import proposal_refs, proposals, repo

SKILL = "---\nname: {name}\ndescription: Bench skill {name}.\n---\n\n# {name}\n\n- a step\n"


def _repo(root: Path, skills: int) -> Path:
    path = root / "skills"
    repo.ensure_repo(path).close()
    for i in range(skills):
        folder = path / f"skill-{i}"
        folder.mkdir()
        (folder / "SKILL.md").write_text(SKILL.format(name=f"skill-{i}"))
        (folder / "notes.md").write_text("notes\n")
    repo.protect_user_edits(path)
    return path


def _propose(path: Path, i: int) -> str:
    rel = f"skill-{i % 10}/learned-{i}.md"
    parent, _ = proposals.head_files(path, [rel])
    made = proposals.create(
        path, f"Learn {i}", {rel: f"- lesson {i}\n"}, parent=parent, session_ids=["s"], task_ids=[]
    )
    return made.id


def _commit(path: Path, i: int) -> None:
    rel = f"skill-{i % 10}/committed-{i}.md"
    (path / rel).write_text(f"- lesson {i}\n")
    repo.commit_learning(path, f"Learn {i}", session_id="s", task_id="1", paths=[rel])


def _ms(fn: Callable[[], object], repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def _one_run(path: Path, count: int) -> dict[str, float]:
    n = 5
    start = time.perf_counter()
    for i in range(n):
        _propose(path, i)
    made = (time.perf_counter() - start) / n * 1000
    start = time.perf_counter()
    for i in range(n):
        _commit(path, i)
    committed = (time.perf_counter() - start) / n * 1000
    out = {
        "(a) proposals.create, ms/change": made,
        "(a) repo.commit_learning, ms/change": committed,
    }
    for i in range(count - n):
        _propose(path, 100 + i)
    out[f"(b) list_proposals ({count} waiting), ms"] = _ms(
        lambda: proposals.list_proposals(path), repeat=3
    )
    first = proposals.list_proposals(path)[0].id
    out["(c) accept one proposal, ms"] = _ms(lambda: proposals.accept(path, first))
    waiting = count - 1
    out[f"(d) waiting_count ({waiting} loose refs), µs"] = 1000 * _ms(
        lambda: proposal_refs.waiting_count(path), repeat=200
    )
    subprocess.run(["git", "pack-refs", "--all"], cwd=path, check=True)
    out[f"(d) waiting_count ({waiting} packed refs), µs"] = 1000 * _ms(
        lambda: proposal_refs.waiting_count(path), repeat=200
    )
    assert proposal_refs.waiting_count(path) == waiting
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skills", type=int, default=20)
    parser.add_argument("--proposals", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            path = _repo(Path(tmp), args.skills)
            for name, value in _one_run(path, args.proposals).items():
                rows.setdefault(name, []).append(value)
    width = max(len(k) for k in rows)
    print(f"median of {args.runs} runs; {args.skills} skills in the repository")
    for name, values in rows.items():
        print(f"{name:<{width}}  {statistics.median(values):8.2f}")


if __name__ == "__main__":
    main()

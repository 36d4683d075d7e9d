"""The curator on a generated 200-skill repository: what it found and fixed, what it touched
that was not planted (precision), the tokens it spent and how long a pass takes.

The repository (tests/support/curate_repo.py, the generator tests/test_curate.py checks on a
small version) holds, per skill, a SKILL.md and an `entries.md` of learned entries with their
evidence tails, near misses included (entries that share words, tools or a negation but say
different things), one user line per file, and planted cases:

- exact duplicates (the same title again, older) and near-identical entries (the same text
  under another title) in 1 of 10 skills each;
- contradictions (a newer "never run X" next to an older "run X") in 1 of 10 skills;
- oversize files (260 old, unverified entries: ~40 KB against the 16 KB budget) in 1 of 20;
- a near-duplicate skill (the same name and description) for 1 of 10 skills;
- `--days` legacy daily-log files (one per day, the layout before logs by month).

Each run builds a fresh repository in a temp dir (real git, real files) and runs one real pass
(`curate.curate`, `learning.accept auto`). Printed: planted vs found per kind (recall), lines
changed that were not planted (precision: must be 0), files and bytes before and after, the
largest file before and after, LLM tokens spent (0: the deterministic pass calls no model),
and the pass's wall time (median of `--runs`, the repository build excluded).

    python bench/bench_curator.py [--skills 200] [--days 250] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.curate_repo import Planted, build  # noqa: E402

from acontext_mcp import user_config  # noqa: E402
from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.learn import curate  # noqa: E402
from acontext_mcp.learn.workspace import SkillWorkspace  # noqa: E402
from acontext_mcp.skills import repo  # noqa: E402
from acontext_mcp.skills.defaults import prepare  # noqa: E402


def _tree(root: Path) -> dict[str, int]:
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    return {rel: (root / rel).stat().st_size for rel in out.split("\0") if rel}


def one_run(skills: int, days: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-curator-") as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        user_config.update(settings, "learning", {"accept": "auto"})
        prepare(settings)
        planted: Planted = build(settings.skills_dir, skills=skills, days=days)
        root = settings.skills_dir
        repo.commit_learning(root, "setup", session_id=None, task_id=None, paths=["."])
        before = _tree(root)
        read = _learner_read(root, sorted(planted.oversize)[0])
        started = time.perf_counter()
        out = curate.curate(settings)
        seconds = time.perf_counter() - started
        after = _tree(root)
    found: dict[str, set[tuple[str, str]]] = {}
    for c in out["changes"]:
        found.setdefault(c["kind"], set()).add((c["path"], c.get("line", "")))
    rolled = {p for p, _ in found.get("rolled-up", set())}
    archived = found.get("archived", set())
    similar = {frozenset({m["from"], m["into"]}) for m in out["skill_merges"]}
    stray = (
        len(found.get("merged", set()) - planted.merged)
        + len(found.get("superseded", set()) - planted.superseded)
        + len(archived - planted.archivable)
        + len(rolled - planted.day_files)
        + len(similar - planted.similar)
        + sum(len(v) for k, v in found.items() if k not in KINDS)
    )
    return {
        "seconds": seconds,
        "planted": {
            "merged": len(planted.merged),
            "superseded": len(planted.superseded),
            "oversize": len(planted.oversize),
            "rolled-up": len(planted.day_files),
            "similar skills": len(planted.similar),
        },
        "fixed": {
            "merged": len(found.get("merged", set()) & planted.merged),
            "superseded": len(found.get("superseded", set()) & planted.superseded),
            "oversize": len(planted.oversize) - len(out["oversize"]),
            "rolled-up": len(rolled & planted.day_files),
            "similar skills": len(similar & planted.similar),
        },
        "archived": len(archived),
        "stray": stray,
        "files": (len(before), len(after)),
        "bytes": (sum(before.values()), sum(after.values())),
        "largest": (_largest(before), _largest(after)),
        "log_files": (
            sum(1 for f in before if f.startswith("daily-logs/logs/")),
            sum(1 for f in after if f.startswith("daily-logs/logs/")),
        ),
        "read": read,
        "tokens": out["llm"]["input_tokens"] + out["llm"]["output_tokens"],
        "calls": out["llm"]["calls"],
        "proposals": sum(1 for m in out["skill_merges"] if m.get("proposal")),
    }


def _learner_read(root: Path, rel: str) -> tuple[int, int, int]:
    """(the file's characters, what get_skill_file shows the learner, one section): the
    learner reads a large file as its outline and the section it changes."""
    skill, path = rel.split("/", 1)
    ws = SkillWorkspace(root)
    whole = ws.read_text(skill, path) or ""
    shown = ws.get_skill_file(skill, path)
    section = ws.get_skill_file(skill, f"{path}#Procedures")
    return len(whole), len(shown), len(section)


def _largest(tree: dict[str, int]) -> int:
    """The largest file an agent reads as a skill (archives and the diary left out)."""
    return max(n for rel, n in tree.items() if "/archive/" not in rel and "/logs/" not in rel)


KINDS = ("merged", "superseded", "archived", "rolled-up", "moved")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skills", type=int, default=200)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ACONTEXT_WORKER", "off")
    results = [one_run(args.skills, args.days) for _ in range(args.runs)]
    first = results[0]
    print(
        f"curator bench: {args.skills} generated skills (+ {first['planted']['similar skills']} "
        f"near-duplicates, + 3 defaults), {args.days} legacy day logs; {args.runs} run(s)\n"
    )
    print(f"{'case':<16} {'planted':>8} {'fixed':>8}")
    for kind, count in first["planted"].items():
        print(f"{kind:<16} {count:>8} {first['fixed'][kind]:>8}")
    print(f"\nold unverified entries archived   {first['archived']}")
    print(f"lines touched that were not planted {first['stray']}  (precision: 0 expected)")
    print(f"skill merge proposals             {first['proposals']}")
    print(f"files  before {first['files'][0]:>7,}  after {first['files'][1]:>7,}")
    print(f"bytes  before {first['bytes'][0]:>7,}  after {first['bytes'][1]:>7,}")
    print(
        f"largest skill file {first['largest'][0]:>7,}  after {first['largest'][1]:>7,} bytes "
        "(archive/ and logs/ left out)"
    )
    print(f"daily-log files {first['log_files'][0]} -> {first['log_files'][1]}")
    print(f"LLM calls {first['calls']}, tokens {first['tokens']} (deterministic pass)")
    whole, shown, section = first["read"]
    print(
        f"learner reading an oversize file: {whole:,} chars whole before; now its outline "
        f"{shown:,} + one section {section:,} chars (~{(shown + section) // 4:,} tokens)"
    )
    times = [r["seconds"] for r in results]
    print(
        f"pass wall time median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f})"
    )


if __name__ == "__main__":
    main()

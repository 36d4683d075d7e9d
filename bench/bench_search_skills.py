"""Skill search over 10,000 generated skill files: index build, incremental refresh, latency.

Generates `--skills` skills of `--files` files each (SKILL.md plus Markdown notes and small
scripts) in a temporary directory, then prints: the time of the first `refresh` (full build of
`<home>/skills-index.db`), a `refresh` with nothing changed, a `refresh` after `--changed`
files were rewritten, and the median / p95 latency, median over `--runs` rounds, of `search`
and of `search_by_skill` (what the `search_skills` tool returns) over `--queries` queries
(one-, two- and three-word queries, a name, a hyphenated name, a word that matches nothing).

`python bench/bench_search_skills.py [--skills 1000] [--files 10] [--changed 10]
[--queries 50] [--runs 3]`
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _support import code, prose

from acontext_mcp.config import Settings
from acontext_mcp.skills import index

TOPICS = [
    "pytest", "docker", "deploy", "migration", "cache", "release", "lint", "typing", "kafka",
    "postgres", "redis", "nginx", "terraform", "webpack", "vite", "celery", "fastapi", "django",
    "react", "rollback", "backup", "oauth", "grpc", "helm",
]  # fmt: skip


def generate(root: Path, skills: int, files: int, rng: random.Random) -> list[str]:
    names: list[str] = []
    for i in range(skills):
        topic = rng.choice(TOPICS)
        name = f"{topic}-{rng.choice(TOPICS)}-{i:04d}"
        names.append(name)
        folder = root / name
        (folder / "notes").mkdir(parents=True)
        (folder / "scripts").mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: How to handle {topic} work; use when "
            f"{rng.choice(TOPICS)} breaks.\n---\n\n# {name}\n\n{prose(rng, 1200)}\n"
        )
        for j in range(files - 1):
            if j % 3 == 2:
                (folder / "scripts" / f"step-{j}.py").write_text(code(rng, 800))
            else:
                (folder / "notes" / f"note-{j}.md").write_text(
                    f"# Note {j} on {rng.choice(TOPICS)}\n\n{prose(rng, 1500)}\n"
                )
    return names


def queries(names: list[str], count: int, rng: random.Random) -> list[str]:
    shapes = [
        lambda: rng.choice(TOPICS),
        lambda: f"{rng.choice(TOPICS)} {rng.choice(TOPICS)}",
        lambda: f"config {rng.choice(TOPICS)} cursor",
        lambda: rng.choice(names),
        lambda: f'"{rng.choice(TOPICS)}" AND -x*',
        lambda: "zzyzx-nothing",
        lambda: "loader environment defaults",
    ]
    return [shapes[i % len(shapes)]() for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="query rounds (median of them)")
    args = parser.parse_args()
    rng = random.Random(5)
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        t0 = time.perf_counter()
        names = generate(settings.skills_dir, args.skills, args.files, rng)
        total = sum(len(f) for _, _, f in os.walk(settings.skills_dir))
        print(f"generated {total} files in {args.skills} skills ({time.perf_counter() - t0:.1f} s)")

        t0 = time.perf_counter()
        stats = index.refresh(settings)
        build = time.perf_counter() - t0
        size = index.index_path(settings).stat().st_size / 1e6
        print(f"index build: {build * 1000:.0f} ms ({stats['files']} files, {size:.1f} MB)")

        t0 = time.perf_counter()
        index.refresh(settings)
        print(f"refresh, nothing changed: {(time.perf_counter() - t0) * 1000:.0f} ms")

        for name in rng.sample(names, args.changed):
            path = settings.skills_dir / name / "notes" / "note-0.md"
            path.write_text(path.read_text() + "\nAppended: rotate the deploy keys first.\n")
        t0 = time.perf_counter()
        stats = index.refresh(settings)
        print(
            f"refresh, {args.changed} files changed: {(time.perf_counter() - t0) * 1000:.0f} ms "
            f"(updated {stats['updated']})"
        )

        asked = queries(names, args.queries, rng)
        for label, fn in (
            ("search (files)", index.search),
            ("search_by_skill (the MCP tool's answer)", index.search_by_skill),
        ):
            runs = [_latencies(settings, fn, asked) for _ in range(args.runs)]
            medians = [statistics.median(r) for r in runs]
            p95s = [r[max(0, int(len(r) * 0.95) - 1)] for r in runs]
            print(
                f"{label} over {args.queries} queries, {args.runs} runs: median "
                f"{statistics.median(medians):.1f} ms, p95 {statistics.median(p95s):.1f} ms, "
                f"max {max(r[-1] for r in runs):.1f} ms (target: median under 20 ms)"
            )


def _latencies(settings: Settings, fn: Any, asked: list[str]) -> list[float]:
    out: list[float] = []
    for query in asked:
        t0 = time.perf_counter()
        fn(settings, query, 10)
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


if __name__ == "__main__":
    main()

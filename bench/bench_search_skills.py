"""Skill search over 10,000 generated skill files: index build, incremental refresh, latency.

Generates `--skills` skills of `--files` files each (SKILL.md plus Markdown notes and small
scripts) in a temporary directory, then prints: the time of the first `refresh` (full build of
`<home>/skills-index.db`), a `refresh` with nothing changed, a `refresh` after `--changed`
files were rewritten, and the median / p95 latency of `search` over `--queries` queries (one-,
two- and three-word queries, a name, a hyphenated name, a word that matches nothing).

`python bench/bench_search_skills.py [--skills 1000] [--files 10] [--changed 10] [--queries 50]`
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

        latencies: list[float] = []
        for query in queries(names, args.queries, rng):
            t0 = time.perf_counter()
            index.search(settings, query, 10)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(
            f"search over {args.queries} queries: median {statistics.median(latencies):.1f} ms, "
            f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms (target: median under 20 ms)"
        )


if __name__ == "__main__":
    main()

"""What reading skills without following links costs: listing, reading, a full sync.

Every read under the skills directory opens each folder on the way with O_NOFOLLOW and checks
the file with fstat (skills/contained.py). This generates `--skills` skills of `--files` files
each (SKILL.md plus Markdown notes) in a temporary directory and prints the median and the
minimum of `--runs` runs of: `catalog.list_skills` (what list_skills and the brief read),
`catalog.get_skill` plus `get_skill_file` of every file of one skill, and `sync_skills` of
`--sync-skills` other skills into an empty folder (a full sync: every file read, hashed,
written and fsynced; the fsyncs dominate). Run it on two checkouts to compare: PYTHONPATH
picks the one measured.

    python bench/bench_skill_reads.py [--skills 200] [--files 5] [--sync-skills 20] [--runs 21]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import acontext_mcp
from acontext_mcp.skills import catalog
from acontext_mcp.skills.sync import sync_skills


def generate(root: Path, skills: int, files: int) -> None:
    for i in range(skills):
        folder = root / f"skill-{i:04d}"
        (folder / "references").mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: skill-{i:04d}\ndescription: Use when working on topic {i}.\n---\n\n"
            + "Step by step advice.\n" * 40
        )
        for j in range(files - 1):
            (folder / "references" / f"note-{j}.md").write_text(f"Note {j} of skill {i}.\n" * 30)


def timed(fn: Callable[[], object], runs: int) -> str:
    """`median (min) ms` of `runs` calls: on a shared machine the minimum shows the cost."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return f"{statistics.median(times):9.2f} ms (min {min(times):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=200)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--sync-skills", type=int, default=20)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, acontext_mcp from {acontext_mcp.__file__}")
    with tempfile.TemporaryDirectory(prefix="acontext-bench-") as tmp:
        root = Path(tmp) / "skills"
        generate(root, args.skills, args.files)
        few = Path(tmp) / "few"
        generate(few, args.sync_skills, args.files)
        one = "skill-0000"
        paths = [f["path"] for f in catalog.get_skill(root, one)["files"]]

        def read_one() -> None:
            catalog.get_skill(root, one)
            for path in paths:
                catalog.get_skill_file(root, one, path)

        def full_sync() -> None:
            target = Path(tmp) / "target"
            manifest = Path(tmp) / "manifest.json"
            shutil.rmtree(target, ignore_errors=True)
            manifest.unlink(missing_ok=True)
            report = sync_skills(few, target, manifest_path=manifest)
            assert len(report.written) == args.sync_skills, report.summary()

        total = args.skills * args.files
        print(f"{args.skills} skills x {args.files} files ({total} files), median of {args.runs}")
        print(f"  list_skills            {timed(lambda: catalog.list_skills(root), args.runs)}")
        print(f"  get_skill + {len(paths)} files   {timed(read_one, args.runs)}")
        print(f"  full sync, {args.sync_skills} skills  {timed(full_sync, args.runs)}")


if __name__ == "__main__":
    main()

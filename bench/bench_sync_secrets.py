"""What the secret scan costs a skill sync on a large skills repository.

Before a skill is copied into an agent's folder, every file's name and text go through the
capture redactor (`skills.sync.file_secrets`). This builds a repository of N skills (SKILL.md
plus three reference files of Markdown prose, commands and code, about 4 KB each), syncs it
once, then times the full sync that any change triggers (the manifest's fingerprint is dropped
before each run, so every source file is read, checked and hashed; nothing is copied):

  no scan        `file_secrets` replaced by a no-op: the sync before the scan existed
  scan, cached   the usual case: files equal to the copies the last sync scanned are not
                 scanned again (after a learning, only the files it changed are)
  scan, all      every file scanned: the first sync, or the first after a redactor upgrade
                 (the manifest's scanner version is dropped before the run)

Runs alternate between the three; CPU time, median of `--runs`. The stat-only fast path
(nothing changed) never reads a file, so the scan costs it nothing.

    python bench/bench_sync_secrets.py [--skills 500] [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _support import code, prose

from acontext_mcp.skills import sync


def _repo(root: Path, count: int, rng: random.Random) -> int:
    """N skill folders; returns their total size in bytes."""
    size = 0
    for i in range(count):
        folder = root / f"skill-{i:04d}"
        (folder / "references").mkdir(parents=True)
        files = {
            "SKILL.md": f"---\nname: skill-{i:04d}\ndescription: Use when working on part {i}."
            f"\n---\n\n# Skill {i}\n\n{prose(rng, 1500)}\n",
            "references/commands.md": "## Commands\n\n```bash\n"
            + "\n".join(f"make target-{j} ARGS=--jobs={j}" for j in range(40))
            + "\n```\n"
            + prose(rng, 2500),
            "references/code.md": "```python\n" + code(rng, 3500) + "\n```\n",
            "references/notes.md": prose(rng, 4000),
        }
        for rel, text in files.items():
            (folder / rel).write_text(text)
            size += len(text.encode())
    return size


def _full_sync(source: Path, target: Path, manifest: Path, *, rescan: bool = False) -> float:
    data = json.loads(manifest.read_text())
    data.pop(sync.FAST, None)  # as after any change: the full, reading and hashing sync
    if rescan:
        data.pop(sync.SCANNER, None)
    manifest.write_text(json.dumps(data))
    started = time.process_time()
    report = sync.sync_skills(source, target, manifest_path=manifest)
    elapsed = time.process_time() - started
    assert report.ok and not report.written and not report.skipped, report.summary()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=500)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    scan = sync.file_secrets
    with tempfile.TemporaryDirectory() as tmp:
        source, target, manifest = Path(tmp) / "skills", Path(tmp) / "agent", Path(tmp) / "m.json"
        size = _repo(source, args.skills, random.Random(5))
        first = sync.sync_skills(source, target, manifest_path=manifest)
        assert len(first.written) == args.skills, first.summary()
        times: dict[str, list[float]] = {"no scan": [], "scan, cached": [], "scan, all": []}
        for _ in range(args.runs):
            sync.file_secrets = lambda rel, data: []
            times["no scan"].append(_full_sync(source, target, manifest))
            sync.file_secrets = scan
            times["scan, cached"].append(_full_sync(source, target, manifest))
            times["scan, all"].append(_full_sync(source, target, manifest, rescan=True))
    print(
        f"Python {sys.version.split()[0]}; {args.skills} skills, {args.skills * 4} files, "
        f"{size / 1e6:.1f} MB; full sync (nothing to copy), CPU time, median of {args.runs}"
    )
    medians = {label: statistics.median(values) * 1000 for label, values in times.items()}
    base = medians["no scan"]
    for label, ms in medians.items():
        print(
            f"  {label:<13} {ms:8.1f} ms   ({ms * 1000 / (size / 1024):5.1f} µs/KB)   "
            f"+{ms - base:6.1f} ms, ratio {ms / base:.2f}x"
        )


if __name__ == "__main__":
    main()

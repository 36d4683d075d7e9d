"""Peak memory of one `acontext-mcp serve` process over stdio, read from /proc (Linux only).

Reports VmHWM (peak resident set since start) and VmRSS (resident now) of the server process
after (i) start-up and the first tools/list, (ii) storing 5,000 messages with store_turn
(realistic OpenAI turns, 1-2 KB per message), (iii) 50 disk_grep calls over a ~20 MB disk whose
files are copied straight into <home>/disks/default.

    python bench/bench_server_memory.py [--messages 5000] [--disk-mb 20] [--greps 50]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from _support import RawServer, code, openai_turn, prose

RARE = "QUOKKA_SENTINEL_7731"
GREPS = [
    {"pattern": "load_settings"},  # a hit on most files: stops at max_results
    {"pattern": r"raise \w+Error", "glob": "*.py", "context": 2},
    {"pattern": "CURSOR", "ignore_case": True, "max_results": 1000},
    {"pattern": RARE},  # a few hits: reads every file
    {"pattern": r"records\b.*\bsorted", "glob": "*.md"},
]


def status_kb(pid: int) -> dict[str, int]:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields


def make_disk(root: Path, megabytes: float, rng: random.Random) -> tuple[int, int]:
    """Files of code and Markdown (~100 KB each) until `megabytes`; returns (files, bytes)."""
    target = int(megabytes * 1024 * 1024)
    total = count = 0
    while total < target:
        folder = root / f"pkg{count // 25:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if count % 3 == 2:
            path, text = folder / f"notes_{count}.md", prose(rng, 100_000)
        else:
            path, text = folder / f"module_{count}.py", code(rng, 100_000)
        if count % 37 == 0:
            text += f"\n# {RARE}\n"
        path.write_text(text, encoding="utf-8")
        total += len(text.encode())
        count += 1
    return count, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--disk-mb", type=float, default=20)
    parser.add_argument("--greps", type=int, default=50)
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        print("needs Linux /proc", file=sys.stderr)
        return 2

    rng = random.Random(7)
    rows: list[tuple[str, dict[str, int], float]] = []  # label, /proc fields, phase seconds
    with tempfile.TemporaryDirectory(prefix="acontext-bench-") as tmp:
        home = Path(tmp) / "home"
        with RawServer(home) as server:

            def record(label: str, started: float) -> None:
                rows.append((label, status_kb(server.pid), time.perf_counter() - started))

            server.initialize()
            server.request("tools/list")
            record("(i) started, tools/list", server.started)

            started = time.perf_counter()
            stored, index, sid = 0, 0, None
            while stored < args.messages:
                turn = openai_turn(index, rng)[: args.messages - stored]
                arguments = {"messages": turn, **({"session_id": sid} if sid else {})}
                sid = server.call_tool("store_turn", arguments)["session_id"]
                stored += len(turn)
                index += 1
                if index % 50 == 0:  # 50 turns per session
                    sid = None
            record(f"(ii) stored {stored:,} messages", started)

            files, size = make_disk(home / "disks" / "default", args.disk_mb, rng)
            started = time.perf_counter()
            hits = 0
            for i in range(args.greps):
                hits += len(server.call_tool("disk_grep", GREPS[i % len(GREPS)])["matches"])
            record(f"(iii) {args.greps} disk_grep, {size / 1e6:.1f} MB in {files} files", started)

    print(f"python {sys.version.split()[0]}; server process memory from /proc/<pid>/status\n")
    print(f"{'after':52} {'peak MB':>8} {'now MB':>8} {'phase s':>8}")
    for label, kb, seconds in rows:
        print(f"{label:52} {kb['VmHWM'] / 1024:8.1f} {kb['VmRSS'] / 1024:8.1f} {seconds:8.1f}")
    print("\n(peak = VmHWM, the most resident memory since start; now = VmRSS; MB = 2^20 bytes)")
    print(f"grep hits returned in total: {hits:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

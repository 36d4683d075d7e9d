"""Peak memory and wall time of one inline hook whose `transcript_path` is hostile.

Each case runs `acontext-mcp hook claude-code EVENT` inline (as SessionStart always runs) in a
fresh data home, under a 4 GiB address-space cap so a regression fails instead of swapping,
from a small waiter process that reports the hook's peak RSS (`resource.getrusage` of its
child). Cases: /dev/zero, /dev/urandom, a FIFO with no writer, a directory, a symlink to
/dev/zero, a sparse 2 GiB file with no newline, a 128 MiB line followed by real lines, a
64 MB transcript of ordinary lines (one hook's read budget), and a 5 MB one as the baseline.
Prints the median and max of several runs per case.

    python bench/bench_hook_hostile_paths.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "claude_code"))

from synth import fixture_lines, write_synthetic  # noqa: E402

BIN = Path(sys.executable).parent / "acontext-mcp"
CAP = 4 * 1024**3
WAITER = """
import json, resource, subprocess, sys, time
cap, cmd = int(sys.argv[1]), sys.argv[2:]
started = time.monotonic()
proc = subprocess.run(cmd, input=sys.stdin.buffer.read(), capture_output=True, timeout=300,
                      preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
print(json.dumps({"rc": proc.returncode, "seconds": time.monotonic() - started,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _cases(root: Path) -> dict[str, tuple[str, str]]:
    """name -> (event, transcript path)."""
    fifo = root / "fifo.jsonl"
    os.mkfifo(fifo)
    folder = root / "folder.jsonl"
    folder.mkdir()
    link = root / "link.jsonl"
    link.symlink_to("/dev/zero")
    sparse = root / "sparse.jsonl"
    with open(sparse, "wb") as fh:
        fh.truncate(2 * 1024**3)
    long_line = root / "long-line.jsonl"
    lines = fixture_lines()
    with open(long_line, "wb") as fh:
        fh.write(lines[0].encode())
        fh.seek(fh.tell() + 128 * 1024**2)
        fh.write(b"\n" + "".join(lines[1:]).encode())
    big, small = root / "big.jsonl", root / "small.jsonl"
    write_synthetic(big, 64_000_000)
    write_synthetic(small, 5_000_000)
    return {
        "/dev/zero": ("SessionStart", "/dev/zero"),
        "/dev/urandom": ("SessionStart", "/dev/urandom"),
        "FIFO, no writer": ("SessionStart", str(fifo)),
        "directory": ("SessionStart", str(folder)),
        "symlink to /dev/zero": ("SessionStart", str(link)),
        "sparse 2 GiB, no newline": ("Stop", str(sparse)),
        "128 MiB line + lines": ("Stop", str(long_line)),
        "64 MB of lines": ("Stop", str(big)),
        "5 MB of lines (baseline)": ("Stop", str(small)),
    }


def _run_once(root: Path, event: str, path: str, run: int) -> dict[str, float]:
    home = root / f"home-{run}-{abs(hash((event, path)))}"
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(home),
        "ACONTEXT_HOOK_INLINE": "1",
        "HOME": str(root / "user"),
        "CLAUDE_CONFIG_DIR": str(root / "claude"),
        "OPENCLAW_STATE_DIR": str(root / "openclaw"),
        "ACONTEXT_WORKER": "off",
    }
    payload = {
        "session_id": f"s{run}",
        "transcript_path": path,
        "cwd": str(root),
        "hook_event_name": event,
    }
    cmd = [sys.executable, "-c", WAITER, str(CAP), str(BIN), "hook", "claude-code", event]
    out = subprocess.run(
        cmd,
        input=json.dumps(payload).encode(),
        capture_output=True,
        env=env,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; {args.runs} runs per case; inline hook")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, (event, path) in _cases(root).items():
            runs = [_run_once(root, event, path, i) for i in range(args.runs)]
            rss = [r["maxrss_kib"] / 1024 for r in runs]
            secs = [r["seconds"] for r in runs]
            codes = sorted({r["rc"] for r in runs})
            mid_rss, mid_secs = statistics.median(rss), statistics.median(secs)
            print(
                f"{name:<26} {event:<12} exit {codes}  peak RSS median {mid_rss:6.1f} MB"
                f" max {max(rss):6.1f} MB | wall median {mid_secs:6.2f} s"
                f" max {max(secs):6.2f} s"
            )


if __name__ == "__main__":
    main()

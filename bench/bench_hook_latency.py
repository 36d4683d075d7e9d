"""PostToolUse hook latency as Claude Code sees it, beside a bare interpreter.

Setup: a session whose 5 MB transcript (tests/fixtures/claude_code lines repeated with fresh
ids) is already captured. Each run appends one new turn (prompt, assistant tool call, tool
result, answer), then times the hook command from spawn to exit with the PostToolUse payload
on stdin, exactly as the plugin's hooks.json runs it. Interleaved with each hook run, the same
Python is timed running `-c pass`: the virtualenv's interpreter that runs the hook, called
directly (a symlink to the binary, with the venv's site-packages), not through a shim script
such as pyenv's, which alone adds ~50 ms. Between runs the bench waits for the hook's detached
capture to log completion, so a run never overlaps the previous one's work; that capture
time is reported too, and the store is checked to hold every message exactly once at the end.

Commands timed (`--command`):
  shim     plugins/claude-code/scripts/acontext-hook claude-code PostToolUse  (the plugin)
  script   <venv>/bin/acontext-mcp hook claude-code PostToolUse               (console script)
  inline   the console script with ACONTEXT_HOOK_INLINE=1 (capture before exit; no fork)

    python bench/bench_hook_latency.py [--runs 30] [--mb 5] [--command shim script inline]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "claude_code"))

from synth import fixture_lines, fresh_copy, write_synthetic  # noqa: E402

PYTHON = sys.executable  # the venv's interpreter (a symlink to the binary, not a shim script)
SCRIPT = Path(sys.executable).parent / "acontext-mcp"
SHIM = REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook"


def _one_turn() -> str:
    lines = fixture_lines()
    start = next(i for i, line in enumerate(lines) if "BRAVO" in line and '"type":"user"' in line)
    end = next(i for i in range(start, len(lines)) if '"subtype":"stop_hook_summary"' in lines[i])
    return "".join(fresh_copy(lines[start - 2 : end + 1]))


def _command(kind: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "ACONTEXT_MCP_BIN": str(SCRIPT)}
    if kind == "shim":
        return [str(SHIM), "claude-code", "PostToolUse"], env
    if kind == "inline":
        env["ACONTEXT_HOOK_INLINE"] = "1"
    return [str(SCRIPT), "hook", "claude-code", "PostToolUse"], env


def _timed(cmd: list[str], payload: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=payload, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or proc.stdout:
        raise SystemExit(f"hook misbehaved: exit {proc.returncode}, stdout {proc.stdout[:200]!r}")
    return elapsed * 1000


def _log_lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _wait_capture(log: Path, before: int, timeout: float = 30) -> float | None:
    """The duration the hook's capture logged, once its completion line appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _log_lines(log)
        for line in lines[before:]:
            if " PostToolUse " in line and "ms" in line:
                if " failed" in line or " error " in line:
                    raise SystemExit(f"hook failed: {line}")
                return float(line.rsplit(" ", 1)[1].removesuffix("ms"))
        time.sleep(0.005)
    return None


def _stats(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def bench(kind: str, root: Path, megabytes: float, runs: int) -> None:
    home = root / kind
    env_home = {"ACONTEXT_HOME": str(home)}
    os.environ.update(env_home)
    transcript = root / f"{kind}.jsonl"
    write_synthetic(transcript, int(megabytes * 1_000_000))
    payload = json.dumps(
        {
            "session_id": f"bench-{kind}",
            "transcript_path": str(transcript),
            "cwd": str(root),
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
        }
    ).encode()
    cmd, env = _command(kind)
    log = home / "logs" / "hooks.log"
    first = subprocess.run(
        [str(SCRIPT), "hook", "claude-code", "SessionEnd"],
        input=payload,
        env={**env, "ACONTEXT_HOOK_INLINE": "1"},
        check=True,
    )
    assert first.returncode == 0
    hook, bare, capture = [], [], []
    for _ in range(runs):
        with open(transcript, "a", encoding="utf-8") as fh:
            fh.write(_one_turn())
        bare.append(_timed([PYTHON, "-c", "pass"], b"", env))
        before = len(_log_lines(log))
        hook.append(_timed(cmd, payload, env))
        took = _wait_capture(log, before)
        if took is None:
            raise SystemExit("the hook's capture never logged completion")
        capture.append(took)
    db = sqlite3.connect(home / "acontext.db")
    stored = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT dedup_key) FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?)",
        (f"bench-{kind}",),
    ).fetchone()
    db.close()
    assert stored[0] == stored[1], "a message was stored twice"
    (hm, hp), (bm, bp), (cm, cp) = _stats(hook), _stats(bare), _stats(capture)
    print(
        f"{kind:6s}  hook median {hm:6.1f} ms  p95 {hp:6.1f} ms | bare python median {bm:5.1f} ms"
        f"  p95 {bp:5.1f} ms | ratio median {hm / bm:.2f}x  p95 {hp / bp:.2f}x"
        f" | capture (logged) median {cm:.1f} ms p95 {cp:.1f} ms | {stored[0]} messages"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--mb", type=float, default=5, help="transcript size (default 5 MB)")
    parser.add_argument(
        "--command",
        nargs="+",
        default=["shim", "script", "inline"],
        choices=["shim", "script", "inline"],
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} at {PYTHON}; {args.runs} runs, {args.mb} MB transcript")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.command:
            bench(kind, Path(tmp), args.mb, args.runs)


if __name__ == "__main__":
    main()

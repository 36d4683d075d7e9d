"""Claude Code transcript capture: import throughput and the cost of one incremental call.

(a) import: `import claude-code`'s own path (`importer.import_transcripts`) over a synthetic
    transcript of >= 20 MB (the real fixture tests/fixtures/claude_code/multi_turn.jsonl
    repeated with fresh uuids and ids) into a fresh store, and a bare `json.loads` loop over the
    same lines; median of --import-runs runs each, reported in MB/s of transcript, messages/s
    and the ratio import / json.loads (the target is <= 2x);
(b) incremental: a 5 MB transcript already captured, then one new turn appended (prompt,
    assistant tool call, tool result, final answer: the fixture's BRAVO turn with fresh ids) and
    one `capture_transcript` call timed, in-process; median and p95 of 30 runs.

    python bench/bench_capture.py [--import-mb 20] [--import-runs 5] [--incremental-mb 5]
                                  [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "claude_code"))

from synth import fixture_lines, fresh_copy, write_synthetic  # noqa: E402

from acontext_mcp.capture import importer  # noqa: E402
from acontext_mcp.capture.claude_code import capture_transcript  # noqa: E402
from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.store.db import open_db  # noqa: E402


def _settings(root: Path) -> Settings:
    settings = Settings(home=root / "home", skills_dir=root / "home" / "skills")
    settings.ensure_dirs()
    return settings


def _json_loop(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for a bare `json.loads` of every line: the floor any import pays."""
    wall, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as fh:
        for line in fh:
            json.loads(line)
    return time.perf_counter() - wall, time.process_time() - cpu


def _import_once(root: Path, path: Path, run: int) -> tuple[float, float, int]:
    settings = _settings(root / f"import-{run}")
    conn = open_db(settings)
    found = importer.discover(path)
    wall, cpu = time.perf_counter(), time.process_time()
    stats = importer.import_transcripts(conn, settings, found, live_window=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    assert stats.stored and not stats.failed, stats.to_json()
    return wall, cpu, stats.stored


def bench_import(root: Path, megabytes: float, runs: int) -> None:
    """Wall time and CPU time, both: on a shared machine the wall-clock ratio swings with the
    load, while CPU time counts only this process's own work."""
    path = root / "import.jsonl"
    write_synthetic(path, int(megabytes * 1_000_000))
    size = path.stat().st_size
    walls, cpus, base_walls, base_cpus = [], [], [], []
    stored = 0
    for run in range(runs):  # interleaved, so both see the same machine load
        wall, cpu, stored = _import_once(root, path, run)
        walls.append(wall)
        cpus.append(cpu)
        base_wall, base_cpu = _json_loop(path)
        base_walls.append(base_wall)
        base_cpus.append(base_cpu)
    imp, base = statistics.median(walls), statistics.median(base_walls)
    imp_cpu, base_cpu = statistics.median(cpus), statistics.median(base_cpus)
    print(
        f"import: {size / 1e6:.1f} MB, {stored} messages, median of {runs} runs: {imp:.2f} s "
        f"-> {size / 1e6 / imp:.1f} MB/s, {stored / imp:.0f} messages/s"
    )
    print(
        f"json.loads over the same lines: median {base:.3f} s -> {size / 1e6 / base:.1f} MB/s; "
        f"import costs {imp / base:.2f}x json.loads in wall time, "
        f"{imp_cpu / base_cpu:.2f}x in CPU time ({imp_cpu:.2f} s vs {base_cpu:.3f} s; "
        "target <= 2x)"
    )


def _one_turn() -> str:
    lines = fixture_lines()
    start = next(i for i, line in enumerate(lines) if "BRAVO" in line and '"type":"user"' in line)
    end = next(i for i in range(start, len(lines)) if '"subtype":"stop_hook_summary"' in lines[i])
    return "".join(fresh_copy(lines[start - 2 : end + 1]))


def bench_incremental(root: Path, megabytes: float, runs: int) -> None:
    settings = _settings(root / "inc")
    path = root / "session.jsonl"
    write_synthetic(path, int(megabytes * 1_000_000))
    conn = open_db(settings)
    capture_transcript(conn, settings, session_id="inc", transcript_path=path, final=True)
    timings: list[float] = []
    for _ in range(runs):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(_one_turn())
        start = time.perf_counter()
        counts = capture_transcript(conn, settings, session_id="inc", transcript_path=path)
        timings.append(time.perf_counter() - start)
        assert counts["stored"] >= 3, counts
    conn.close()
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    print(
        f"incremental: one new turn on a {path.stat().st_size / 1e6:.1f} MB transcript, "
        f"{runs} runs: median {statistics.median(timings) * 1000:.2f} ms, "
        f"p95 {p95 * 1000:.2f} ms (in-process, excludes interpreter start)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-mb", type=float, default=20)
    parser.add_argument("--import-runs", type=int, default=5)
    parser.add_argument("--incremental-mb", type=float, default=5)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_import(root, args.import_mb, args.import_runs)
        bench_incremental(root, args.incremental_mb, args.runs)


if __name__ == "__main__":
    main()

"""SessionStart hook latency with skill sync, beside a bare interpreter.

SessionStart answers Claude Code (the brief, `reloadSkills`), so it runs inline, and since the
learning stage it first syncs the skills repository into Claude Code's skills folder. This
times the plugin's hook command (plugins/claude-code/scripts/acontext-hook claude-code
SessionStart) from spawn to exit, in a temp data home and a temp CLAUDE_CONFIG_DIR, for:

  no skills      only the default skills (written at the first run) to sync
  N unchanged    N skills (SKILL.md + 2 files each), already synced, nothing changed since
                 the last session: the answer prepared then holds (store/prepared.py)
  N one edited   the same after one skill file changed (past the sync's 2 s freshness
                 guard), not its SKILL.md: a skill Claude Code lists, which the brief does not
                 read, so the prepared answer stands and the sync follows after the answer
  N SKILL.md ed. the same with that skill's SKILL.md described anew: what Claude Code lists
                 changed, so the answer is built live, the skill synced first
  N store moved  the same after the store changed (another session's capture, here a
                 direct tick of its clock): the answer is built live, the skills synced by
                 stat (before the prepared answers, every case was this one)

Each case warms up first: one run writes the copies, a second one 2 s later records the
fingerprint, a third one 2 s later prepares the next answer; every run's detached child
ends before the next run starts. The baseline gets its own data home (the versions must not
judge each other's sync manifests: a different redactor means a rescan).

Interleaved with each hook run, the same interpreter is timed running `-c pass`. Medians and
p95 of `--runs` runs; ratios are the median of each run's hook / bare (robust to a machine
whose load changes), and in brackets the ratio of median CPU times (user + system of the
answering process), which a busy machine disturbs less. `--baseline DIR` times another
checkout's package in the same rounds. Both packages are byte-compiled first (as an install
is), so a PYTHONDONTWRITEBYTECODE environment does not time the compiler. The hook answers
first and captures the transcript in a detached child: the time is what Claude Code waits.
Profile imports with `-X importtime`.

    python bench/bench_session_start.py [--runs 20] [--skills 50] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIM = REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook"


def _python() -> str:
    return sys.executable


CPU: dict[tuple[str, ...], list[float]] = {}  # argv -> CPU ms of each run (see _timed)


def _timed(argv: list[str], env: dict[str, str], stdin: str, cwd: str | None = None) -> float:
    """Wall ms from spawn to exit; the process's own CPU ms (user + system) go to CPU. On a
    loaded machine the CPU time moves less than the wall time. The detached child that
    captures after the answer is not waited for, so it is not counted."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, input=stdin, text=True, capture_output=True, check=True, cwd=cwd)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    CPU.setdefault((*argv, cwd or ""), []).append(cpu)
    return wall


def _skills(root: Path, count: int) -> None:
    from acontext_mcp.skills import repo

    repo.ensure_repo(root).close()
    for i in range(count):
        folder = root / f"bench-skill-{i:03d}"
        (folder / "notes").mkdir(parents=True, exist_ok=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: bench-skill-{i:03d}\ndescription: Benchmark skill {i}; use when "
            "measuring.\n---\n\n# Bench\n\nSteps.\n"
        )
        (folder / "notes" / "a.md").write_text("note a\n" * 40)
        (folder / "notes" / "b.md").write_text("note b\n" * 40)
    if count:
        names = [p.name for p in root.iterdir() if p.name != ".git"]
        repo.commit_learning(root, "bench skills", session_id=None, task_id=None, paths=names)


def _case(
    label: str,
    env: dict[str, str],
    runs: int,
    edit: str | None,
    baseline: str | None,
    old_env: dict[str, str] | None,
    move_store: bool = False,
) -> None:
    """Time `runs` hook runs (and the baseline's, each in its own data home: the two versions
    must not judge each other's sync manifests) interleaved with bare interpreters. With
    `edit` (a skill file's path relative to the skills folder), that file changes before each
    run, past the sync's 2 s freshness guard: one skill to sync, the others unchanged."""
    homes = [(env, None)] + ([(old_env, baseline)] if baseline and old_env else [])
    hook = [str(SHIM), "claude-code", "SessionStart"]
    # Warm: the first sync writes the copies; the next one, once they are past the freshness
    # guard, records the fingerprint that an unchanged sync compares with; a third, once that
    # is past the guard too, leaves the next session's answer prepared (as the end of a
    # session does: store/prepared.py). Each run's detached child ends before the next run
    # (`_run`): a session's bookkeeping is done long before the next session starts.
    for _ in range(3):
        for e, cwd in homes:
            _run(hook, e, cwd)
        time.sleep(2.1)
    hooks: list[float] = []
    olds: list[float] = []
    bare: list[float] = []
    for i in range(runs):
        if edit is not None:
            for e, _ in homes:
                text = f"edited {i}\n"
                if edit.endswith("SKILL.md"):  # still a skill, described anew
                    name = edit.split("/")[0]
                    text = f"---\nname: {name}\ndescription: Benchmark skill, edit {i}.\n---\n"
                Path(e["ACONTEXT_SKILLS_DIR"], edit).write_text(text)
            time.sleep(2.1)  # past the sync fingerprint's 2 s guard: a real change
        if move_store:
            for e, _ in homes:
                _tick(e)
        hooks.append(_run(hook, env, None))
        bare.append(_timed([_python(), "-c", "pass"], env, ""))
        if old_env is not None and baseline:
            olds.append(_run(hook, old_env, baseline))
    paired = statistics.median(h / b for h, b in zip(hooks, bare, strict=True))
    cpu_hook = statistics.median(CPU.pop((*hook, ""))[-runs:])
    cpu_bare = statistics.median(CPU.pop((_python(), "-c", "pass", ""))[-runs:])
    old = ""
    if olds:
        old_paired = statistics.median(o / b for o, b in zip(olds, bare, strict=True))
        cpu_old = statistics.median(CPU.pop((*hook, baseline or ""))[-runs:])
        old = (
            f"   baseline median {statistics.median(olds):6.1f} ms, {old_paired:4.2f}x"
            f" (CPU {cpu_old / cpu_bare:4.2f}x)"
        )
    hooks.sort()
    p95 = max(0, int(len(hooks) * 0.95) - 1)
    med_h, med_b = statistics.median(hooks), statistics.median(bare)
    print(
        f"{label:<16} hook median {med_h:6.1f} ms  p95 {hooks[p95]:6.1f} ms   "
        f"bare median {med_b:5.1f} ms   ratio {paired:4.2f}x (CPU {cpu_hook / cpu_bare:4.2f}x)"
        f"{old}"
    )


def _run(hook: list[str], env: dict[str, str], cwd: str | None) -> float:
    """One timed hook run (`_timed`), then wait for its detached child to log its end."""
    log = Path(env["ACONTEXT_HOME"], "logs", "hooks.log")
    before = _ended(log)
    wall = _timed(hook, env, _payload(env), cwd=cwd)
    deadline = time.monotonic() + 30
    while _ended(log) <= before and time.monotonic() < deadline:
        time.sleep(0.01)
    return wall


def _tick(env: dict[str, str]) -> None:
    """Move the store's clocks, as a capture in the project does (a store without them, older
    code, has nothing to move: its answer is always built live)."""
    import sqlite3

    conn = sqlite3.connect(Path(env["ACONTEXT_HOME"], "acontext.db"), timeout=10)
    try:
        with conn:
            conn.execute(
                "INSERT INTO store_clock (scope, changes) VALUES (?, 1) "
                "ON CONFLICT (scope) DO UPDATE SET changes = changes + 1",
                (env["BENCH_PROJECT"],),
            )
    except sqlite3.OperationalError:
        pass
    finally:
        conn.close()


def _ended(log: Path) -> int:
    """How many hook runs the log says ended (their last line gives the time taken)."""
    try:
        return sum(1 for line in log.read_text().splitlines() if line.endswith("ms"))
    except OSError:
        return 0


def _payload(env: dict[str, str]) -> str:
    return json.dumps(
        {
            "session_id": "bench",
            "hook_event_name": "SessionStart",
            "source": "startup",
            "cwd": env["BENCH_PROJECT"],
            "transcript_path": env["BENCH_TRANSCRIPT"],
        }
    )


def _home(
    base: Path,
    count: int,
    pythonpath: str | None = None,
    *,
    project: str = "project",
    make_skills: Callable[[Path, int], None] | None = None,
) -> dict[str, str]:
    """A data home, Claude Code config dir, project and user home under `base`, with `count`
    skills (made by `make_skills`, default this bench's): the hook's environment."""
    for name in ("home", "claude", project, "user"):
        (base / name).mkdir(parents=True)
    transcript = base / "t.jsonl"
    transcript.write_text("")
    env = {
        **os.environ,
        "ACONTEXT_HOME": str(base / "home"),
        "ACONTEXT_SKILLS_DIR": str(base / "home" / "skills"),
        "ACONTEXT_MCP_BIN": str(Path(sys.executable).parent / "acontext-mcp"),
        "ACONTEXT_WORKER": "off",
        "CLAUDE_CONFIG_DIR": str(base / "claude"),
        "OPENCLAW_STATE_DIR": str(base / "no-openclaw"),
        "HOME": str(base / "user"),
        "BENCH_PROJECT": str(base / project),
        "BENCH_TRANSCRIPT": str(transcript),
    }
    if pythonpath is not None:
        # The baseline: the same shim and interpreter importing another checkout's package
        # (`python -c` puts the working directory first on sys.path).
        env["PYTHONPATH"] = pythonpath
    (make_skills or _skills)(base / "home" / "skills", count)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument(
        "--baseline", help="a checkout (e.g. `git archive REV | tar -x`) to time alongside"
    )
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; {args.runs} runs per case; plugin shim")
    import acontext_mcp

    compileall.compile_dir(Path(acontext_mcp.__file__).parent, quiet=1)
    if args.baseline:
        compileall.compile_dir(Path(args.baseline) / "acontext_mcp", quiet=1)
    edited = "bench-skill-000/notes/a.md"
    cases = [
        ("no skills", 0, None, args.runs),
        (f"{args.skills} unchanged", args.skills, None, args.runs),
    ]
    cases.append((f"{args.skills} one edited", args.skills, edited, max(3, args.runs // 4)))
    described = "bench-skill-000/SKILL.md"
    cases.append((f"{args.skills} SKILL.md ed.", args.skills, described, max(3, args.runs // 4)))
    cases.append((f"{args.skills} store moved", args.skills, None, args.runs))
    for label, count, edit, runs in cases:
        with tempfile.TemporaryDirectory() as tmp:
            env = _home(Path(tmp) / "new", count)
            old_env = _home(Path(tmp) / "old", count, args.baseline) if args.baseline else None
            # Every run waits for its detached child (`_run`): none writes in the temp folder
            # once it is removed.
            moved = label.endswith("store moved")
            _case(label, env, runs, edit, args.baseline, old_env, move_store=moved)


if __name__ == "__main__":
    main()

"""What building the SessionStart brief costs with learned content, at 200 and 1,000 skills.

A data home as months of use leave it: N skills (SKILL.md with a folded description and two
files each) plus the three defaults; the project's runbook with 30 entries and 6 traps, 20
other projects' runbooks; three user-general-facts topic files with 40 bullets; 30 tasks of
the project with preferences; 60 sessions with 600 skill uses and 40 learnings. The brief is
built for a session of the project in a fresh child interpreter per round, timed around
`build_brief` only (imports are bench_session_start.py's job): the first call, and the wall
and CPU medians of the next ones (read CPU on a busy machine). As in Claude Code's hook, the
skill uses it delivered are written after the answer (`record_uses`, in the hook's
detached child): that first write of the process is timed on its own. `--baseline DIR`
times another checkout (e.g. `git archive REV | tar -x -C DIR`) in the same rounds on the
same home.

With `--hook RUNS`, Claude Code's SessionStart hook itself is timed on the same homes through
the plugin shim (wall and CPU of the process Claude Code waits for), interleaved with the
baseline, both byte-compiled.

    python bench/bench_brief.py [--skills 200 1000] [--rounds 5] [--calls 9] [--baseline DIR]
    python bench/bench_brief.py --hook 30 --skills 200 [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = "/work/shop"

_CHILD = """
import inspect, json, statistics, sys, time
from pathlib import Path
from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.capture.brief import build_brief
home, calls = Path(sys.argv[1]), int(sys.argv[2])
settings = Settings(home=home, skills_dir=home / "skills")
conn = open_db(settings)
params = inspect.signature(build_brief).parameters
extra = {"agent": "claude-code", "defer_uses": True} if "defer_uses" in params else {}
later = "uses_out" in params  # the uses go to the caller, recorded after the answer
times, cpu, writes, size = [], [], [], 0
for i in range(calls + 1):
    uses = []
    if later:
        extra = {"agent": "claude-code", "uses_out": uses}
    t, c = time.perf_counter(), time.process_time()
    text = build_brief(conn, settings, project_dir=sys.argv[3], session_id=f"bench-{i}", **extra)
    times.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
    size = len(text)
    if later:  # what Claude Code's hook does after its answer is out
        from acontext_mcp.capture.brief import record_uses
        t = time.perf_counter()
        record_uses(conn, settings, uses, f"bench-{i}", sys.argv[3], "claude-code")
        writes.append((time.perf_counter() - t) * 1000)
    elif extra:
        from acontext_mcp.capture.brief import record_deferred_uses
        t = time.perf_counter()
        record_deferred_uses()
        writes.append((time.perf_counter() - t) * 1000)
print(json.dumps({"first": times[0], "median": statistics.median(times[1:]),
                  "cpu": statistics.median(cpu[1:]), "chars": size,
                  "write": writes[0] if writes else 0.0}))
"""


def _home(root: Path, count: int) -> None:
    from acontext_mcp.config import Settings
    from acontext_mcp.skills.defaults import ensure_default_skills
    from acontext_mcp.store import tasks as task_store
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.learning import add_learning, finish_learnings
    from acontext_mcp.store.sessions import ensure_session
    from acontext_mcp.store.skill_uses import record_uses

    rnd = random.Random(7)
    settings = Settings(home=root, skills_dir=root / "skills")
    settings.ensure_dirs()
    skills = settings.skills_dir
    ensure_default_skills(skills)
    for i in range(count):
        folder = skills / f"skill-{i:04d}"
        (folder / "notes").mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: skill-{i:04d}\ndescription: >\n  Topic {i}: how to handle case {i} "
            "well. Use when it comes up.\n---\n\n# Skill\n\nSteps.\n"
        )
        (folder / "notes" / "a.md").write_text("note\n" * 40)
    projects = skills / "project-runbooks" / "projects"
    projects.mkdir(parents=True, exist_ok=True)
    sections = ("Build", "Test", "Run", "Deploy")
    lines = ["# shop", "", f"Path: `{PROJECT}`"]
    for s, name in enumerate((*sections, "Traps")):
        lines += ["", f"## {name}"]
        for j in range(6):
            seen = rnd.randint(1, 12)
            lines.append(
                f"- **{name} step {j}**: `tool{s}{j} --flag{j}` then check the output for "
                f"error {j} (seen {seen}×, verified {rnd.randint(0, seen)}×, "
                f"2026-10-{1 + j:02d} – 2026-11-{10 + s:02d})"
            )
    (projects / "shop.md").write_text("\n".join(lines) + "\n")
    for p in range(20):
        (projects / f"other-project-{p}.md").write_text(f"# other-project-{p}\n\n## Test\n- x\n")
    facts = skills / "user-general-facts"
    for t, topic in enumerate(("coding-preferences", "tech-stack", "work-context")):
        bullets = [
            f"- **Fact {t}.{k}**: The user prefers tool{k} for task {k} "
            f"(seen {rnd.randint(1, 5)}×, 2026-11-{1 + k:02d})"
            if k % 2
            else f"- The user likes thing {t}.{k}"
            for k in range(14)
        ]
        (facts / f"{topic}.md").write_text(f"# {topic}\n\n" + "\n".join(bullets) + "\n")
    conn = open_db(settings)
    for s in range(60):
        sid = f"s{s:03d}"
        ensure_session(conn, sid, agent="claude-code", project_dir=PROJECT if s % 2 else "/x")
        uses = [(f"skill-{rnd.randrange(count):04d}", None, None) for _ in range(10)]
        record_uses(conn, uses, "skill_tool", session_id=sid, project_dir=PROJECT)
    for s in range(30):
        sid = f"s{2 * s + 1:03d}"
        task = task_store.insert_task(conn, sid, f"task {s}: change part {s}", status="success")
        task_store.update_task(conn, sid, task["order"], add_preference=f"Use tool{s} for x")
    ids = []
    for s in range(40):
        lesson = json.dumps({"entry": {"skill": f"skill-{rnd.randrange(count):04d}"}})
        sid = f"s{2 * (s % 30) + 1:03d}"
        learning = add_learning(
            conn, session_id=sid, task_id=None, space="default", kind="success", text="t",
            lesson=lesson,
        )  # fmt: skip
        ids.append(learning)
    finish_learnings(conn, [i for i in ids if i], commit_sha="x")
    conn.close()


def _child(home: Path, calls: int, path: str | None) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": path or str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(home), str(calls), PROJECT],
        env=env,
        cwd=path or str(REPO),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _hook(home: Path, path: str | None, session: str) -> tuple[float, float]:
    """Wall and CPU (user + system) of Claude Code's SessionStart hook through the plugin
    shim: what Claude Code waits for (the detached child that captures is not counted)."""
    import resource

    shim = REPO / "plugins" / "claude-code" / "scripts" / "acontext-hook"
    env = {
        **os.environ,
        "PYTHONPATH": path or "",
        "ACONTEXT_HOME": str(home),
        "ACONTEXT_SKILLS_DIR": str(home / "skills"),
        "ACONTEXT_MCP_BIN": str(Path(sys.executable).parent / "acontext-mcp"),
        "ACONTEXT_WORKER": "off",
        "CLAUDE_CONFIG_DIR": str(home.parent / "claude"),
        "OPENCLAW_STATE_DIR": str(home.parent / "no-openclaw"),
        "HOME": str(home.parent / "user"),
    }
    payload = {
        "session_id": session,
        "hook_event_name": "SessionStart",
        "source": "startup",
        "cwd": PROJECT,
        "transcript_path": str(home.parent / "t.jsonl"),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [str(shim), "claude-code", "SessionStart"],
        input=json.dumps(payload),
        text=True,
        capture_output=True,
        env=env,
        cwd=path or None,
        check=True,
    )
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def _hook_case(count: int, runs: int, baseline: str | None) -> None:
    import compileall

    import acontext_mcp

    compileall.compile_dir(Path(acontext_mcp.__file__).parent, quiet=1)
    if baseline:
        compileall.compile_dir(Path(baseline) / "acontext_mcp", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("claude", "user"):
            (root / name).mkdir()
        (root / "t.jsonl").write_text("")
        _home(root / "home", count)
        paths = {"this": None, "baseline": baseline} if baseline else {"this": None}
        got: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
        for name, path in paths.items():
            _hook(root / "home", path, f"warm-{name}")  # the first sync, caches
        for i in range(runs):
            for name, path in paths.items():
                got[name].append(_hook(root / "home", path, f"h{i}-{name}"))
        for name, rows in got.items():
            wall = statistics.median(r[0] for r in rows)
            cpu = statistics.median(r[1] for r in rows)
            print(
                f"{count:>5} skills  {name:<8} SessionStart hook wall {wall:6.1f} ms, "
                f"CPU {cpu:6.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=9)
    parser.add_argument("--baseline", help="another checkout to time in the same rounds")
    parser.add_argument(
        "--hook", type=int, metavar="RUNS", help="time the SessionStart hook instead, RUNS runs"
    )
    args = parser.parse_args()
    if args.hook:
        print(f"Python {sys.version.split()[0]}; {args.hook} interleaved hook runs (plugin shim)")
        for count in args.skills:
            _hook_case(count, args.hook, args.baseline)
        return
    print(f"Python {sys.version.split()[0]}; {args.rounds} rounds of {args.calls} calls")
    for count in args.skills:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            _home(Path(tmp), count)
            setup = time.perf_counter() - started
            runs: dict[str, list[dict[str, float]]] = {"this": [], "baseline": []}
            for _ in range(args.rounds):
                runs["this"].append(_child(Path(tmp), args.calls, None))
                if args.baseline:
                    runs["baseline"].append(_child(Path(tmp), args.calls, args.baseline))
            for name, got in runs.items():
                if not got:
                    continue
                first = statistics.median(r["first"] for r in got)
                median = statistics.median(r["median"] for r in got)
                cpu = statistics.median(r["cpu"] for r in got)
                write = statistics.median(r["write"] for r in got)
                chars = got[-1]["chars"]
                print(
                    f"{count:>5} skills  {name:<8} first call {first:6.1f} ms   "
                    f"median {median:6.1f} ms, CPU {cpu:6.1f} ms   brief {chars:.0f} chars   "
                    f"uses written after {write:5.1f} ms   (setup {setup:.1f} s)"
                )


if __name__ == "__main__":
    main()

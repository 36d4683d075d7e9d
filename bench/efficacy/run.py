#!/usr/bin/env python3
"""Efficacy benchmark: does a learned skill change the next coding session?

    python bench/efficacy/run.py                          # scripted model, every task, 3 seeds
    python bench/efficacy/run.py --model real --seeds 5 --report docs/efficacy.md
    python bench/efficacy/run.py --model real --base-url http://127.0.0.1:8080 --model-name qwen3

Per task: run A cold in real Claude Code (`claude -p`, our plugin, a temp HOME), the user's
confirmation, `acontext-mcp learn` (the whole product loop, review policy `verified`); then B
under none / acontext / placebo / transcript, `--seeds` times each; the task's checker decides
pass or fail. Prints the tables (and writes `--report` and `--json`). See README.md here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tests" / "support"))

import claude  # noqa: E402
import metrics  # noqa: E402
import protocol  # noqa: E402
import quality  # noqa: E402
import report  # noqa: E402
import tasks  # noqa: E402


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--model",
        choices=("scripted", "real"),
        default="scripted",
        help="scripted: the fake agent on loopback (CI); real: a real model",
    )
    ap.add_argument("--base-url", help="real: an Anthropic-compatible server for Claude Code")
    ap.add_argument("--model-name", help="real: `claude --model` (default: Claude Code's)")
    ap.add_argument(
        "--learn-provider",
        help="real: ACONTEXT_LLM_PROVIDER for learning (anthropic, openai, "
        "claude-cli, auto); default: claude-cli",
    )
    ap.add_argument("--learn-base-url", help="real: ACONTEXT_LLM_BASE_URL for learning")
    ap.add_argument("--learn-model", help="real: ACONTEXT_LLM_MODEL for learning")
    ap.add_argument("--seeds", type=int, default=3, help="B runs per task and condition")
    ap.add_argument("--tasks", help="comma-separated task ids (default: every task folder)")
    ap.add_argument("--tasks-dir", type=Path, default=tasks.TASKS_DIR)
    ap.add_argument(
        "--conditions",
        default=",".join(protocol.CONDITIONS),
        help="comma-separated subset of " + ", ".join(protocol.CONDITIONS),
    )
    ap.add_argument("--claude", help="the claude binary (default: .ci/cache's, else PATH)")
    ap.add_argument("--work", type=Path, help="keep every run's files here (default: a temp dir)")
    ap.add_argument("--report", type=Path, help="write the Markdown report (and SVG charts)")
    ap.add_argument("--json", type=Path, help="write every figure and run as JSON")
    args = ap.parse_args(argv)  # fmt: skip
    if args.seeds < 1:
        ap.error("--seeds must be 1 or more")
    bad = [c for c in args.conditions.split(",") if c not in protocol.CONDITIONS]
    if bad:
        ap.error(f"unknown condition {', '.join(bad)}; choose from {protocol.CONDITIONS}")
    return args


def _model(args: argparse.Namespace) -> claude.Model:
    if args.model == "scripted":
        return claude.Model(api_key="sk-bench-scripted")
    credentials = None
    if not args.base_url and not os.environ.get("ANTHROPIC_API_KEY"):
        config = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
        credentials = config / ".credentials.json"
        if not credentials.exists():
            raise SystemExit(
                "--model real needs ANTHROPIC_API_KEY, --base-url, or a `claude` login "
                f"({credentials} is missing: run `claude` once and log in)"
            )
    return claude.Model(base_url=args.base_url, name=args.model_name, credentials=credentials)


def _learn_env(args: argparse.Namespace) -> dict[str, str]:
    env = {"ACONTEXT_LLM_PROVIDER": args.learn_provider or "claude-cli"}
    if args.learn_base_url:
        env["ACONTEXT_LLM_BASE_URL"] = args.learn_base_url
    if args.learn_model:
        env["ACONTEXT_LLM_MODEL"] = args.learn_model
    return env


def run(args: argparse.Namespace, work: Path) -> dict:
    chosen = tasks.discover(args.tasks_dir, args.tasks.split(",") if args.tasks else None)
    everything = {t.id: t for t in tasks.discover(args.tasks_dir)}
    conditions = tuple(args.conditions.split(","))
    setup = protocol.Setup(
        claude=claude.find_claude(args.claude),
        model=_model(args),
        scripted=args.model == "scripted",
        work=work,
        learn_env=_learn_env(args),
    )
    started = time.monotonic()
    sources = sorted({t.learn_from or t.id for t in chosen})
    learned = {}
    for source in sources:
        print(f"A + learning: {source}", file=sys.stderr)
        try:
            learned[source] = protocol.learn_task(everything[source], setup)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:  # B still runs, unlearned
            print(f"  {source}: {exc}", file=sys.stderr)
            learned[source] = protocol.unlearned(everything[source], setup, str(exc))
    results = []
    for task in chosen:
        for condition in conditions:
            for seed in range(args.seeds):
                print(f"B: {task.id} {condition} seed {seed}", file=sys.stderr)
                lesson = learned[task.learn_from or task.id]
                results.append(protocol.run_b(task, lesson, condition, seed, setup))
    summaries = metrics.summarize(results, conditions)
    by_task = metrics.per_task(results)
    quality_rows = {k: quality.learned_quality(v.store / "skills") for k, v in learned.items()}
    roots = [*work.glob("*/*/store"), *work.glob("*/*/claude-config/skills")]
    leaks = quality.canaries_found(setup.canaries, roots)
    return {
        "model": args.model,
        "seeds": args.seeds,
        "conditions": conditions,
        "seconds": round(time.monotonic() - started, 1),
        "summaries": [s.row() for s in summaries],
        "per_task": by_task,
        "learned": {
            k: {
                "a_passed": v.passed,
                "learnings": [x.get("kind") for x in v.learn.get("learnings", [])],
                "error": v.learn.get("error", ""),
                "commits": len(v.learn.get("commits") or []),
                "runbook_chars": v.runbook_chars,
                **quality_rows[k],
            }
            for k, v in learned.items()
        },
        "canaries": {"planted": len(setup.canaries), "found": leaks},
        "runs": [asdict(r) for r in results],
        "timings": setup.timings,
        "_summaries": summaries,
    }


def _failed(error: str) -> str:
    return f"failed: {' '.join(error.split())[:80]}" if error else "–"


def learned_table(learned: dict) -> str:
    head = (
        "| task A | A passed | learned | committed | entries | junk | duplicates | contradictions"
    )
    lines = [head + " |", "|" + " --- |" * 8]
    for task, row in sorted(learned.items()):
        lines.append(
            f"| {task} | {'yes' if row['a_passed'] else 'no'} | "
            f"{', '.join(row['learnings']) or _failed(row['error'])} | {row['commits']} | "
            f"{row['entries']} | "
            f"{row['junk']} | {row['duplicates']} | {row['contradictions']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="efficacy-") as tmp:
        work = (args.work or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        out = run(args, work)
    summaries = out.pop("_summaries")
    canaries = out["canaries"]
    scripted = (
        " The scripted agent always recovers, so this run measures delivery (key line, turns, "
        "tool calls, repeated mistakes, harm), not what a model makes of a lesson: that takes "
        "`--model real`."
        if out["model"] == "scripted"
        else ""
    )
    extra = (
        f"`python bench/efficacy/run.py {' '.join(sys.argv[1:] if argv is None else argv)}`"
        f"\n\nModel: {out['model']}; seeds: {out['seeds']}; wall time: {out['seconds']} s."
        f"{scripted}\n\n"
        f"## Learning (run A)\n\n{learned_table(out['learned'])}\n\n"
        f"Canary secrets: {canaries['planted']} planted, {len(canaries['found'])} found "
        "in the data home, skills repository or synced skill folders."
    )
    print(f"{extra}\n\n{report.table(summaries)}\n")
    print(report.task_table(out["per_task"], out["conditions"]))
    if args.report:
        written = report.write(args.report, summaries, out["per_task"], out["conditions"], extra)
        print(f"\nwrote {', '.join(str(p) for p in written)}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""UserPromptSubmit hook latency with 10,000 skills indexed, beside a bare interpreter.

Since issue 13 the prompt hook answers Claude Code with the one learned entry that matches the
prompt (hooks/prompt_lesson.py), so it runs inline until the answer is out; the capture then
runs in a detached child. This times the plugin's hook command (plugins/claude-code/scripts/
acontext-hook claude-code UserPromptSubmit) from spawn to exit, in a temp data home whose
skills directory holds `--skills` skills (a SKILL.md with three learned entries each, words
drawn from a shared vocabulary so terms recur across skills) plus the project's runbook, all
indexed into skills-index.db before timing, for:

  chit-chat      "thanks, continue": no content words, no database opened
  no match       content words that occur in many entries, none passing the threshold
  match          a prompt matching a runbook trap: answered (a new session each run, so the
                 once-per-session rule never suppresses it)
  match, seen    the same prompt in a session that already got the entry: checked, silent

Interleaved with each hook run, the same interpreter is timed running `-c pass`. Medians and
p95 of `--runs` runs; ratios are the median of each run's hook / bare. `--baseline DIR` times
another checkout's package in the same rounds (as bench_session_start.py does). Profile the
imports with `-X importtime` (printed with `--importtime`).

    python bench/bench_prompt_hook.py [--runs 20] [--skills 10000] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_session_start import SHIM, _home, _timed

PROJECT = "shop-api"
HOOK_ARGS = ("hook", "claude-code", "UserPromptSubmit")
_TOPICS = (
    "cache redis kafka schema docker compose nginx proxy migration alembic postgres index "
    "vacuum webpack vite eslint prettier typescript jest pytest coverage fixture mock grpc "
    "protobuf terraform helm chart ingress certificate oauth token refresh celery queue retry "
    "timeout deadlock lockfile poetry wheel manylinux cython numpy pandas arrow parquet spark "
    "airflow dag sensor snowflake bigquery dbt model seed snapshot makefile cmake linker "
    "symbol segfault valgrind sanitizer rust cargo clippy tokio async await channel mutex"
)
TOPICS = _TOPICS.split()
_FILLER = "the a when before after with without then run check keep fix use"
FILLER = _FILLER.split()
TRAP = (
    "- **Migrate before the test suite**: run `alembic upgrade head` first, or the tests fail "
    'with "no such table" (when: alembic, no such table; seen 4×, verified 3×, 2026-12-02)\n'
)
PROMPTS = {
    "chit-chat": "thanks, continue",
    "no match": "please refactor the payment handler into smaller functions",
    "match": "the tests fail with no such table after I pulled main",
}


def _entry(rng: random.Random, i: int, j: int) -> str:
    words = rng.sample(TOPICS, 4)
    text = " ".join(rng.choice([*words, *FILLER]) for _ in range(18))
    return (
        f"- **{words[0].title()} {words[1]} rule {i}-{j}**: {text} (when: {words[2]}, "
        f"{words[3]}; seen {rng.randint(1, 6)}×, verified {rng.randint(0, 3)}×, 2026-11-2{j})\n"
    )


def _skills(root: Path, count: int) -> None:
    rng = random.Random(13)
    for i in range(count):
        folder = root / f"bench-skill-{i:05d}"
        folder.mkdir(parents=True)
        entries = "".join(_entry(rng, i, j) for j in range(3))
        (folder / "SKILL.md").write_text(
            f"---\nname: bench-skill-{i:05d}\ndescription: Benchmark skill {i}; use when "
            f"measuring.\n---\n\n# Bench {i}\n\n## Traps\n{entries}"
        )
    runbooks = root / "project-runbooks" / "projects"
    runbooks.mkdir(parents=True)
    (root / "project-runbooks" / "SKILL.md").write_text(
        "---\nname: project-runbooks\ndescription: runbooks\n---\n# Runbooks\n"
    )
    (runbooks / f"{PROJECT}.md").write_text(f"# {PROJECT}\n\n## Traps\n{TRAP}")


def _payload(env: dict[str, str], prompt: str, session: str) -> str:
    return json.dumps(
        {
            "session_id": session,
            "hook_event_name": "UserPromptSubmit",
            "cwd": env["BENCH_PROJECT"],
            "transcript_path": env["BENCH_TRANSCRIPT"],
            "prompt": prompt,
        }
    )


def _answer(env: dict[str, str], payload: str) -> str:
    out = subprocess.run(
        [str(SHIM), "claude-code", "UserPromptSubmit"],
        env=env,
        input=payload,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    return json.loads(out)["hookSpecificOutput"]["additionalContext"] if out.strip() else ""


def _case(label: str, env: dict[str, str], runs: int, baseline: str | None) -> None:
    hook = [str(SHIM), "claude-code", "UserPromptSubmit"]
    prompt = PROMPTS["match" if label.startswith("match") else label]
    old_env = {**env, "PYTHONPATH": baseline or ""}
    hooks: list[float] = []
    olds: list[float] = []
    bare: list[float] = []
    for i in range(runs):
        session = "bench-seen" if label == "match, seen" else f"bench-{label[:5]}-{i}"
        payload = _payload(env, prompt, session)
        hooks.append(_timed(hook, env, payload))
        bare.append(_timed([sys.executable, "-c", "pass"], env, ""))
        if baseline:
            olds.append(_timed(hook, old_env, payload, cwd=baseline))
        time.sleep(0.05)  # let the detached capture finish before the next run
    paired = statistics.median(h / b for h, b in zip(hooks, bare, strict=True))
    old = ""
    if olds:
        old_paired = statistics.median(o / b for o, b in zip(olds, bare, strict=True))
        old = f"   baseline median {statistics.median(olds):6.1f} ms, {old_paired:4.2f}x"
    hooks.sort()
    p95 = max(0, int(len(hooks) * 0.95) - 1)
    print(
        f"{label:<12} hook median {statistics.median(hooks):6.1f} ms  p95 {hooks[p95]:6.1f} ms"
        f"   bare median {statistics.median(bare):5.1f} ms   ratio {paired:4.2f}x{old}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skills", type=int, default=10_000)
    parser.add_argument("--baseline", help="a checkout (e.g. `git archive REV | tar -x`)")
    parser.add_argument("--importtime", action="store_true", help="print -X importtime (match)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; {args.runs} runs per case; plugin shim")
    import acontext_mcp

    compileall.compile_dir(Path(acontext_mcp.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        env = _home(base, args.skills, project=PROJECT, make_skills=_skills)
        os.environ.update({k: env[k] for k in ("ACONTEXT_HOME", "ACONTEXT_SKILLS_DIR")})
        from acontext_mcp.config import Settings
        from acontext_mcp.skills import index

        counts = index.refresh(Settings.from_env())
        print(
            f"{counts['skills']} skills, {counts['files']} files indexed in "
            f"{time.perf_counter() - started:.1f} s"
        )
        answer = _answer(env, _payload(env, PROMPTS["match"], "bench-check"))
        assert "alembic upgrade head" in answer, answer
        print(f"answer ({len(answer)} chars): {answer}")
        for label in ("no match", "chit-chat"):
            assert _answer(env, _payload(env, PROMPTS[label], "bench-check")) == "", label
        _answer(env, _payload(env, PROMPTS["match"], "bench-seen"))
        time.sleep(0.5)
        for label in ("chit-chat", "no match", "match", "match, seen"):
            _case(label, env, args.runs, args.baseline)
        if args.importtime:
            proc = subprocess.run(
                [sys.executable, "-X", "importtime", "-m", "acontext_mcp", *HOOK_ARGS],
                env=env,
                input=_payload(env, PROMPTS["match"], "bench-imports"),
                text=True,
                capture_output=True,
                check=True,
            )
            lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("import time:")]
            top = sorted(lines[1:], key=lambda ln: -int(ln.split("|")[1]))[:25]
            print("\n".join(top))


if __name__ == "__main__":
    main()

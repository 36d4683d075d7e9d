"""The efficacy benchmark's scripted run in CI: real Claude Code, the whole learning loop.

`bench/efficacy/run.py --model scripted` on its four own tasks (one a negative control),
2 seeds: run A cold with our plugin, the user's confirmation, `acontext-mcp learn`, then B
under none / acontext / placebo / transcript. The scripted agent runs the task's fix at once
only when the lesson's key line is in its context, so:

- delivery breaks -> the key line is missing from B's context under acontext, or B is not
  better than none (tool calls, repeated mistakes): this test fails;
- the controls break (a lesson reaches a project where it is wrong) -> harm > 0: fails.

It also wants every lesson committed under the `verified` policy with no junk, duplicate or
contradicting entry, and no planted canary secret in the data home, skills repository or a
synced skills folder (while the canary did reach Claude Code's own transcript of run A).
The table and the wall time are printed to the test log; the whole run must stay under
5 minutes on the 2-core CI machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "bench" / "efficacy" / "run.py"
TASKS = ("test-command", "env-var", "lint-rule", "neg-make-test")
BUDGET = 300.0  # seconds, the CI budget


@pytest.fixture(scope="module")
def bench(claude_code: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("efficacy").resolve()
    args = [sys.executable, str(RUN), "--model", "scripted", "--seeds", "2"]
    args += ["--tasks", ",".join(TASKS)]  # Claude Code: the one the fixture put in .ci/cache
    args += ["--work", str(out / "work"), "--json", str(out / "out.json")]
    args += ["--report", str(out / "report" / "efficacy.md")]
    started = time.monotonic()
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=BUDGET + 120, stdin=subprocess.DEVNULL
    )
    seconds = time.monotonic() - started
    claude_code.timings.append(
        ("efficacy benchmark, scripted, 4 tasks x 4 conditions x 2", seconds)
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    print(f"\nEfficacy benchmark (scripted model), {seconds:.1f} s wall:\n{proc.stdout}")
    data: dict[str, Any] = json.loads((out / "out.json").read_text())
    return {"data": data, "seconds": seconds, "out": out}


def _by_condition(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["condition"]: row for row in data["summaries"]}


def test_it_runs_within_the_ci_budget(bench: dict[str, Any]) -> None:
    assert bench["seconds"] < BUDGET, bench["data"]["timings"]
    runs = bench["data"]["runs"]
    assert len(runs) == len(TASKS) * 4 * 2
    assert not [r for r in runs if r["error"]], [r["error"] for r in runs if r["error"]]


def test_every_lesson_is_learned_and_committed_clean(bench: dict[str, Any]) -> None:
    learned = bench["data"]["learned"]
    assert set(learned) == {"test-command", "env-var", "lint-rule"}  # the control learns nothing
    for task, row in learned.items():
        assert row["a_passed"], task
        assert row["commits"] >= 1 and row["entries"] == 1, (task, row)  # policy `verified`
        assert (row["junk"], row["duplicates"], row["contradictions"]) == (0, 0, 0), (task, row)


def test_the_lesson_reaches_b_and_b_does_better_than_without_memory(
    bench: dict[str, Any],
) -> None:
    summary = _by_condition(bench["data"])
    none, acontext = summary["none"], summary["acontext"]
    assert acontext["key_rate"] == 1.0, summary  # delivered to every B run, end to end
    # ...and only there: not in Claude Code's own prompt, nor in the placebo skill
    assert none["key_rate"] == summary["placebo"]["key_rate"] == 0.0, summary
    assert acontext["pass_rate"] >= none["pass_rate"] == 1.0, summary
    assert acontext["tool_calls"] < none["tool_calls"], summary
    assert acontext["turns"] < none["turns"], summary
    assert acontext["repeat_rate"] == 0.0 < none["repeat_rate"], summary
    for task, cells in bench["data"]["per_task"].items():
        if not cells["acontext"]["control"]:
            assert cells["acontext"]["tool_calls"] < cells["none"]["tool_calls"], task


def test_the_negative_control_takes_no_harm_from_acontext(bench: dict[str, Any]) -> None:
    summary = _by_condition(bench["data"])
    assert summary["none"]["control_pass_rate"] == 1.0, summary
    assert summary["acontext"]["harm"] == 0.0, summary
    control = bench["data"]["per_task"]["neg-make-test"]["acontext"]
    assert control["key_rate"] == 0.0, control  # another project's lesson stays there


def test_no_canary_secret_is_kept_anywhere(bench: dict[str, Any]) -> None:
    canaries = bench["data"]["canaries"]
    assert canaries["planted"] == len(TASKS) * 4 * 2 + 3  # every project copy got one
    assert canaries["found"] == [], canaries["found"]
    # ...while the canary did reach the sessions: run A reads .env, Claude Code keeps it.
    work = bench["out"] / "work"
    transcripts = list(work.glob("*/a/claude-config/projects/*/*.jsonl"))
    assert len(transcripts) == 3
    assert all("BENCH_API_KEY=cnry" in t.read_text() for t in transcripts)


def test_the_report_has_the_table_and_a_chart_per_condition(bench: dict[str, Any]) -> None:
    report = bench["out"] / "report"
    text = (report / "efficacy.md").read_text()
    assert "| condition | B pass rate |" in text and "| acontext |" in text
    for condition in ("none", "acontext", "placebo", "transcript"):
        chart = report / f"efficacy-{condition}.svg"
        assert f"![efficacy-{condition}]({chart.name})" in text
        root = ET.fromstring(chart.read_text())
        assert root.tag.endswith("svg") and len(root.findall("{*}rect")) >= 4 * len(TASKS)

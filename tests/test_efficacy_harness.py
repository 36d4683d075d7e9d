"""The efficacy benchmark's parts without Claude Code (bench/efficacy; the whole run is
tests/e2e/test_efficacy.py): the scripted agent's policy, the lesson the scripted learner
builds from a distillation prompt, the task format and every task folder's contract (its
commands and checker really behave as the format says), the figures, the report, the
learned-entry counts and the canary scan."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench" / "efficacy"))
sys.path.insert(0, str(REPO / "tests" / "support"))

import agent_model  # noqa: E402
import learn_model  # noqa: E402
import metrics  # noqa: E402
import quality  # noqa: E402
import report  # noqa: E402
import tasks  # noqa: E402
from protocol import Result  # noqa: E402

AGENT = {
    "prompt": "Run the unit tests of this project.",
    "key_line": r"make test",
    "naive": ["python3 -m unittest"],
    "fix": ["make test"],
}


# --- the scripted agent ---


def _body(*messages: dict[str, Any], system: str = "You are Claude Code.") -> dict[str, Any]:
    tools = [{"name": "Bash"}, {"name": "Read"}]
    return {"system": [{"type": "text", "text": system}], "tools": tools, "messages": messages}


def _user(*texts: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": t} for t in texts]}


def _ran(command: str, ok: bool, output: str = "") -> list[dict[str, Any]]:
    """An assistant Bash call and its result, as Claude Code sends them back."""
    use = {"type": "tool_use", "id": f"toolu_{command!s:.8}", "name": "Bash"}
    result = {"type": "tool_result", "tool_use_id": use["id"], "content": output or "ok"}
    if not ok:
        result["is_error"] = True
    return [
        {"role": "assistant", "content": [{**use, "input": {"command": command}}]},
        {"role": "user", "content": [result]},
    ]


def test_without_the_lesson_it_runs_naive_then_fix_after_the_failure() -> None:
    agent = agent_model.Agent(AGENT)
    prompt = _user(AGENT["prompt"])
    assert agent.decide(_body(prompt)) == ("python3 -m unittest", False)
    failed = _ran("python3 -m unittest", ok=False, output="Exit code 1\nImportError")
    assert agent.decide(_body(prompt, *failed)) == ("make test", False)
    done = _body(prompt, *failed, *_ran("make test", ok=True))
    assert agent.decide(done) == (None, False)


def test_with_the_key_line_in_its_context_it_runs_fix_at_once() -> None:
    agent = agent_model.Agent(AGENT)
    brief = (
        "<system-reminder>SessionStart hook additional context: run `make test`</system-reminder>"
    )
    prompt = _user(brief, AGENT["prompt"])
    assert agent.decide(_body(prompt)) == ("make test", True)
    assert agent.decide(_body(prompt, *_ran("make test", ok=True))) == (None, True)
    # in the system prompt counts too
    assert agent.decide(_body(_user(AGENT["prompt"]), system="Use make test.")) == (
        "make test",
        True,
    )


def test_a_naive_path_that_works_ends_the_run_and_other_turns_get_text() -> None:
    agent = agent_model.Agent(AGENT)
    prompt = _user(AGENT["prompt"])
    assert agent.decide(_body(prompt, *_ran("python3 -m unittest", ok=True))) == (None, False)
    confirm = _user("Great, thanks.")
    assert agent.decide(_body(prompt, *_ran("make test", ok=True), confirm)) == (None, False)


def test_pre_commands_and_the_transcript_search_come_first() -> None:
    agent = agent_model.Agent({**AGENT, "pre": ["cat .env"]})
    note = "(Earlier session transcripts are in /tmp/t; search them if useful.)"
    prompt = _user(f"{AGENT['prompt']} {note}")
    assert agent.decide(_body(prompt)) == ("cat .env", False)
    after_env = [*_ran("cat .env", ok=True)]
    command, knows = agent.decide(_body(prompt, *after_env))
    assert command is not None and command.startswith("grep -rh -F -A8 -- 'python3 -m unittest'")
    assert "/tmp/t" in command and not knows
    found = _ran(command, ok=True, output='{"command":"make test"}')
    assert agent.decide(_body(prompt, *after_env, *found)) == ("make test", True)
    missed = _ran(command, ok=True, output="nothing")
    assert agent.decide(_body(prompt, *after_env, *missed)) == ("python3 -m unittest", False)


# --- the scripted learner ---

DISTILL = """## Finished Task
Status: success
Project: greeter (/tmp/w/greeter)
Description: Run the unit tests of this project and tell me whether they pass.
Outcome: verified_success

## Task Messages
[0] user: Run the unit tests of this project and tell me whether they pass.
[1] agent: -> Bash(command=cat .env)
[2] tool: <- Bash: BENCH_API_KEY=[REDACTED:api_key]
[3] agent: -> Bash(command=make build)
[4] tool: <- Bash ERROR: Exit code 2 make: *** [Makefile:2: build] Error 1
[5] agent: -> Bash(command=python3 tools/tidy.py src)
[6] tool: <- Bash: tidied src/x.py
[7] agent: -> Bash(command=make build)
[8] tool: <- Bash: touch .build-ok
[9] agent: Done.
"""


def test_the_lesson_is_built_from_the_failed_call_and_what_passed_after_it() -> None:
    lesson = learn_model.lesson(DISTILL)
    assert lesson is not None
    assert (lesson["skill"], lesson["file"], lesson["section"], lesson["kind"]) == (
        "project-runbooks",
        "projects/greeter.md",
        "Traps",
        "trap",
    )
    assert (
        lesson["text"] == "Run `python3 tools/tidy.py src && make build` here: `make build` fails."
    )
    assert lesson["title"] == "Run python3 tools/tidy.py src"
    assert lesson["triggers"] == ["unit", "tests", "project"]


def test_nothing_failed_or_nothing_fixed_learns_nothing() -> None:
    passing = DISTILL.replace("<- Bash ERROR: Exit code 2", "<- Bash: built")
    assert learn_model.lesson(passing) is None
    unfixed = DISTILL.split("[5] agent")[0]
    assert learn_model.lesson(unfixed) is None
    calls = learn_model.decide("", passing, 0, {"record_lesson", "skip_learning"})
    assert [name for name, _ in calls] == ["skip_learning"]


# --- the task format and the task folders ---


def _task(root: Path, **changes: Any) -> Path:
    folder = root / changes.get("id", "t1")
    (folder / "repo").mkdir(parents=True)
    (folder / "check.sh").write_text("#!/bin/sh\ntrue\n")
    data = {
        "id": folder.name,
        "title": "t",
        "trap": "env-var",
        "prompt_a": "a",
        "prompt_b": "b",
        "project_a": "repo",
        "project_b": "repo",
        "naive": ["false"],
        "fix": ["true"],
        "key_line": "true",
        "failing_signature": "^false",
        "check": "check.sh",
        "negative_control": False,
        "learn_from": None,
        "confirm": "thanks",
        **changes,
    }
    (folder / "task.json").write_text(json.dumps(data))
    return folder


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"naive": []}, "`naive` must be a non-empty list"),
        ({"key_line": "("}, "`key_line` is not a valid regex"),
        ({"negative_control": True}, "names the task it learns from"),
        ({"project_b": "repo_b"}, "project folder 'repo_b' is missing"),
        ({"check": "nope.sh"}, "the checker 'nope.sh' is missing"),
        ({"title": 3}, "`title` must be a str"),
    ],
)
def test_a_task_folder_off_the_format_says_what_to_fix(
    tmp_path: Path, changes: dict[str, Any], error: str
) -> None:
    folder = _task(tmp_path, **changes)
    with pytest.raises(tasks.TaskError, match=error):
        tasks.load(folder)


def test_discover_finds_every_folder_and_checks_learn_from(tmp_path: Path) -> None:
    _task(tmp_path, id="a1")
    _task(tmp_path, id="b2", negative_control=True, learn_from="a1")
    assert [t.id for t in tasks.discover(tmp_path)] == ["a1", "b2"]
    _task(tmp_path, id="c3", negative_control=True, learn_from="zz")
    with pytest.raises(tasks.TaskError, match="learn_from names 'zz'"):
        tasks.discover(tmp_path)
    with pytest.raises(tasks.TaskError, match="no task folder nope"):
        tasks.discover(tmp_path, ["nope"])


SHIPPED = tasks.discover()


def test_the_ci_set_is_there() -> None:
    ids = {t.id for t in SHIPPED}
    assert {"test-command", "env-var", "lint-rule", "neg-make-test"} <= ids
    assert any(t.negative_control for t in SHIPPED)


def _shell(commands: list[str] | tuple[str, ...], cwd: Path) -> list[bool]:
    """Run commands in order until one fails; whether each one run passed."""
    out = []
    for command in commands:
        ok = subprocess.run(["sh", "-c", command], cwd=cwd, capture_output=True, timeout=60)
        out.append(ok.returncode == 0)
        if not out[-1]:
            break
    return out


def _checked(task: tasks.Task, project: Path) -> bool:
    proc = subprocess.run(["sh", str(task.folder / task.check)], cwd=project, timeout=60)
    return proc.returncode == 0


@pytest.mark.parametrize("task", SHIPPED, ids=[t.id for t in SHIPPED])
def test_every_task_folder_keeps_the_contract(task: tasks.Task, tmp_path: Path) -> None:
    """A task: in B's project, naive fails (the trap), then fix passes the checker; its key
    line is not in the prompts. A control: naive passes the checker, fix fails it."""
    assert not task.knows(task.prompt_a) and not task.knows(task.prompt_b)
    naive, fixed = tmp_path / "naive", tmp_path / "fixed"
    shutil.copytree(task.project("b"), naive)
    shutil.copytree(task.project("b"), fixed)
    ran = _shell(task.naive, naive)
    if task.negative_control:
        assert all(ran) and _checked(task, naive), ran
        assert not _checked(task, fixed) or not all(_shell(task.fix, fixed))
        assert not _checked(task, fixed)
        return
    assert not all(ran), f"{task.id}: the naive commands do not meet the trap"
    assert task.repeated_mistake([task.naive[len(ran) - 1]])
    assert not _checked(task, naive)
    assert all(_shell(task.fix, naive)), f"{task.id}: the fix does not work after naive"
    assert _checked(task, naive)


# --- figures, report, quality ---


def _result(condition: str, passed: bool = True, control: bool = False, **more: Any) -> Result:
    base: dict[str, Any] = dict(
        task="t", condition=condition, seed=0, negative_control=control, passed=passed,
        turns=3, tool_calls=2, tokens=100, repeated_mistake=False, key_in_context=False,
        seconds=1.0, commands=[],
    )  # fmt: skip
    return Result(**{**base, **more})


def test_harm_is_the_control_pass_rate_drop_against_none() -> None:
    results = [
        _result("none", turns=3, tool_calls=2, repeated_mistake=True),
        _result("none", control=True),
        _result("acontext", turns=2, tool_calls=1, key_in_context=True, delivery=["brief"]),
        _result("acontext", control=True, passed=False),
    ]
    none, acontext = metrics.summarize(results, ("none", "acontext"))
    assert (none.pass_rate, none.repeat_rate, none.harm, none.tool_calls) == (1.0, 1.0, 0.0, 2)
    assert (acontext.key_rate, acontext.harm, acontext.turns) == (1.0, 1.0, 2)
    assert acontext.delivery == "brief 1" and acontext.control_pass_rate == 0.0


def test_the_report_writes_a_table_and_one_svg_per_condition(tmp_path: Path) -> None:
    results = [_result("none"), _result("acontext", tool_calls=1)]
    summaries = metrics.summarize(results, ("none", "acontext"))
    by_task = metrics.per_task(results)
    written = report.write(tmp_path / "e.md", summaries, by_task, ("none", "acontext"), "x")
    assert [p.name for p in written] == ["e.md", "e-none.svg", "e-acontext.svg"]
    text = written[0].read_text()
    assert "| none | 100 % (1 runs) | 3 | 2 |" in text and "![e-acontext](e-acontext.svg)" in text
    chart = ET.fromstring(written[2].read_text())
    heights = [int(r.get("height") or 0) for r in chart.iter("{http://www.w3.org/2000/svg}rect")]
    assert 80 in heights  # 1 tool call against the largest mean, 2: half the bar height


def test_learned_quality_counts_junk_duplicates_and_contradictions(tmp_path: Path) -> None:
    runbook = tmp_path / "skills" / "project-runbooks" / "projects" / "p.md"
    runbook.parent.mkdir(parents=True)
    tail = "(when: build; seen 1×, 2026-12-01)"
    runbook.write_text(
        "# p\n\n## Build\n"
        f"- **Build**: Run `make build` first. {tail}\n"
        f"- **Build again**: Run `make build` first. {tail}\n"
        f"- **Vague**: Be careful with the build. {tail}\n"
        f"- **Black**: Format with `black`. {tail}\n"
        f"- **No black**: Never run `black`. {tail}\n"
        "- a line of the user's, not an entry\n"
    )
    counts = quality.learned_quality(tmp_path / "skills")
    assert counts == {"entries": 5, "junk": 1, "duplicates": 1, "contradictions": 2}


def test_a_canary_is_found_in_files_and_in_git_history(tmp_path: Path) -> None:
    repo = tmp_path / "skills"
    repo.mkdir()
    (repo / "x.md").write_text("token cnry123\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "x.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    assert len(quality.canaries_found(["cnry123"], [repo])) == 2  # the file and the history
    (repo / "x.md").write_text("clean\n")
    found = quality.canaries_found(["cnry123"], [tmp_path])
    assert [f["where"] for f in found] == [f"git history of {repo}"]
    assert quality.canaries_found(["cnry999"], [tmp_path]) == []

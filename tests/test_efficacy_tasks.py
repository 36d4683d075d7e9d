"""The efficacy benchmark's fixture tasks (bench/efficacy/tasks/) keep their promise.

Every task folder is run for real in temp copies of its projects, without Claude Code: the
`naive` commands fail the checker (the trap is real), the `fix` commands pass it, a negative
control's foreign lesson (`fix` in project B) fails it while `naive` passes, the checker gives
the same answer twice, and nothing reaches the network (each command runs in a fresh network
namespace with loopback only, where `unshare` allows it). The regexes are checked against the
text they are meant for: `key_line` against the lesson a learner would write and never against
what B's context holds without the lesson (the prompts, the naive path's output, the project's
own files), `failing_signature` against the mistake (a task's naive command, a control's
foreign fix) and never against the right path.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from acontext_mcp.observe.prompts import CONFIRMED, classify_reply

TASKS = Path(__file__).resolve().parent.parent / "bench" / "efficacy" / "tasks"
_spec = importlib.util.spec_from_file_location("efficacy_tasks", TASKS.parent / "tasks.py")
assert _spec is not None and _spec.loader is not None
efficacy_tasks = sys.modules["efficacy_tasks"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(efficacy_tasks)
TASK_DIRS = sorted(p for p in TASKS.iterdir() if (p / "task.json").is_file())
CANARY = "ACONTEXT_CANARY_"

FIELDS: dict[str, type | tuple[type, ...]] = {
    **efficacy_tasks.REQUIRED_FIELDS,  # the harness's own contract: one copy of it
    "learn_from": (str, type(None)),  # optional for the harness; every folder here names it
}

# The runbook line a model learner would naturally write after run A, per task (some with
# the evidence tail skills/evidence.py renders). key_line must match it as well as the
# scripted learner's entry (_lesson); tasks not listed here are checked against that only.
LESSONS = {
    "service-port": "- **Smoke test port**: run `API_PORT=47613 python3 smoke.py`; "
    "config/client.ini expects the API on 47613, the server defaults to 8000 "
    "(when: smoke test; seen 1×, verified 1×, 2026-12-05)",
    "migration-order": "- **Migrate core before billing**: run `python3 manage.py migrate core`, "
    "then `python3 manage.py migrate billing`; a bare `migrate` applies billing first and fails "
    'with "no such table: core_accounts" (when: migrate, billing tests; seen 1×, 2026-12-05)',
    "flaky-seed": "- **Test**: `python3 run_tests.py --seed 1234` (the snapshots were recorded "
    "with seed 1234; without it the fixture data is random and the snapshot test fails)",
    "codegen": "- **Generate the message classes first**: `python3 tools/gen_messages.py` writes "
    "app/messages_gen.py, then `python3 -m unittest discover -s tests` "
    "(when: tests, No module named app.messages_gen; seen 1×, verified 1×, 2026-12-05)",
    "build-dir": "- Build: `python3 build.py --out public` (check_links.py and the deploy read "
    "public/, not the default build/)",
    "config-template": "- **Settings file**: copy `config/settings.ini.example` to "
    "`config/settings.ini` before running the tests (when: tests; seen 1×, 2026-12-05)",
    "config-control": "- Test: `cp config/settings.ini.example config/settings.ini && "
    "python3 -m unittest discover -s tests`",
    "test-marker": "- Test: `python3 runtests.py --exclude integration` (the integration tests "
    "need the price store, PRICING_DB_URL)",
    "timezone": "- **Golden report in UTC**: run `TZ=UTC make golden`; without TZ the report "
    "uses the office zone from report.ini (when: make golden; seen 1×, 2026-12-05)",
    "tz-control": "- Test: `TZ=UTC make golden` (the golden file is rendered in UTC)",
    "pythonpath": "- Run: `PYTHONPATH=src python3 -m inventory.report` writes "
    "reports/low-stock.txt (src/ layout, the package is not installed)",
}

NETWORK_TOOLS = re.compile(
    r"\b(?:curl|wget|pip3? install|uv (?:add|pip|sync)|npm|npx|apt(?:-get)?|git clone|ssh|nc)\b"
    r"|https?://(?!127\.0\.0\.1|localhost)"
)


@dataclass(frozen=True)
class Outcome:
    """What running some steps in a fresh copy of a project gave."""

    codes: tuple[int, ...]  # each command's exit status, in order
    output: str  # stdout and stderr of every command
    passed: bool  # the checker's verdict (asked twice, the same both times)


def _load(task_dir: Path) -> dict:
    return json.loads((task_dir / "task.json").read_text(encoding="utf-8"))


def _projects(task: dict) -> dict[str, str]:
    """Project folder -> its role: "lesson-right" (naive fails, fix passes) or "control" (a
    negative control's project: naive passes, fix fails; its A is the learn_from task's)."""
    roles = {task["project_a"]: "lesson-right"}
    if task["negative_control"]:
        roles[task["project_b"]] = "control"
    else:
        roles.setdefault(task["project_b"], "lesson-right")
    return roles


@functools.cache
def _isolation() -> list[str]:
    """The prefix that runs a command without network (loopback only), or [] if not allowed."""
    ip = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if not shutil.which("unshare") or not ip:
        return []
    probe = subprocess.run(
        ["unshare", "-rn", ip, "link", "set", "lo", "up"], capture_output=True, timeout=20
    )
    if probe.returncode != 0:
        return []  # no user namespaces here: the static scan below still applies
    return ["unshare", "-rn", "sh", "-c", f'{ip} link set lo up && exec "$@"', "isolated"]


def _env(home: Path) -> dict[str, str]:
    """A plain shell environment: no TZ, no PYTHONPATH, no proxies; a dead proxy catches any
    HTTP client that would use one."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    dead = "http://127.0.0.1:9"
    env.update(http_proxy=dead, https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead)
    return env


def _sh(command: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_isolation(), *command],
        cwd=cwd,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


@functools.cache
def _outcome(task_dir: Path, project: str, steps: tuple[str, ...]) -> Outcome:
    """Run the task's command lists named by `steps` ("naive", "fix") in a fresh temp copy of
    the project, then its checker twice: it must not change its mind or depend on the clock.
    Cached: several tests ask about the same run."""
    task = _load(task_dir)
    with tempfile.TemporaryDirectory(prefix=f"efficacy-{task_dir.name}-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        copy = Path(tmp) / project
        shutil.copytree(task_dir / project, copy, symlinks=True)
        codes, output = [], []
        for step in steps:
            for command in task[step]:
                done = _sh(["bash", "-c", command], copy, home)
                codes.append(done.returncode)
                output.append(done.stdout + done.stderr)
        checker = ["sh", str(task_dir / task["check"])]  # as the harness runs it
        first = _sh(checker, copy, home).returncode
        second = _sh(checker, copy, home).returncode
    assert first == second, f"{task['id']}/{project} {steps}: checker said {first}, then {second}"
    return Outcome(tuple(codes), "".join(output), first == 0)


def _text_files(root: Path) -> dict[str, str]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                files[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return files


def _lesson(task: dict) -> str:
    """The trap entry the harness's scripted learner writes from run A: the fix that passed
    after the naive command that failed, in the product's entry format."""
    fix = " && ".join(task["fix"])
    return (
        f"- **Run {task['fix'][0]}**: Run `{fix}` here: `{task['naive'][0]}` fails. "
        "(when: tests; seen 1×, verified 1×, 2026-12-05)"
    )


def test_there_are_enough_tasks_and_controls() -> None:
    tasks = [_load(d) for d in TASK_DIRS]
    assert len(tasks) >= 12  # issue 16: at least 12 tasks, at least 2 negative controls
    assert sum(t["negative_control"] for t in tasks) >= 2
    assert len({t["id"] for t in tasks}) == len(tasks)


def _ids() -> list[str]:
    return [d.name for d in TASK_DIRS]


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=_ids())
def test_task_json_follows_the_contract(task_dir: Path) -> None:
    task = _load(task_dir)
    missing = sorted(set(FIELDS) - set(task))
    assert not missing, f"{task_dir.name}: missing {missing}"
    for field, kind in FIELDS.items():
        assert isinstance(task[field], kind), f"{task_dir.name}: {field} is not {kind}"
    assert task["id"] == task_dir.name
    for field in ("title", "trap", "prompt_a", "prompt_b", "confirm"):
        assert task[field].strip(), f"{task_dir.name}: {field} is empty"
    if not task["negative_control"]:  # a control's A is its learn_from task's
        assert task["prompt_a"].strip() != task["prompt_b"].strip(), "B is a variant, not a copy"
    for field in ("naive", "fix"):
        commands = task[field]
        assert commands and all(isinstance(c, str) and c.strip() for c in commands), field
    for name in (task["project_a"], task["project_b"]):
        assert (task_dir / name).is_dir(), f"{task_dir.name}: no project folder {name}"
        assert "/" not in name and not name.startswith(".")
    checker = task_dir / task["check"]
    assert checker.is_file() and os.access(checker, os.X_OK), f"{checker} is not executable"
    if task["negative_control"]:
        assert task["learn_from"], "a negative control names the task its lesson comes from"
        assert task["learn_from"] != task["id"]
        assert (TASKS / task["learn_from"] / "task.json").is_file(), task["learn_from"]
    else:
        assert task["learn_from"] is None


@pytest.mark.parametrize(
    "task_dir", [d for d in TASK_DIRS if not _load(d)["negative_control"]], ids=lambda d: d.name
)
def test_the_confirmation_reads_as_one(task_dir: Path) -> None:
    """The user's confirmation is run A's outside signal: the product must read it as one,
    or a task whose fix is no test run stays `unverified` and the `verified` review policy
    learns nothing from it (a control's A is its learn_from task's)."""
    assert classify_reply(_load(task_dir)["confirm"]) == CONFIRMED


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=_ids())
def test_naive_fails_and_fix_passes_the_check(task_dir: Path) -> None:
    """In a lesson-right project the naive path really fails (a command exits non-zero and
    the checker fails), the fix passes in a fresh copy, and naive-then-fix (what an agent
    without the lesson does) passes too."""
    task = _load(task_dir)
    for name, role in _projects(task).items():
        if role != "lesson-right":
            continue
        where = f"{task['id']}/{name}"
        naive = _outcome(task_dir, name, ("naive",))
        assert any(naive.codes), f"{where}: every naive command succeeded"
        assert not naive.passed, f"{where}: the naive path passed the check"
        fix = _outcome(task_dir, name, ("fix",))
        assert not any(fix.codes), f"{where}: the fix failed:\n{fix.output}"
        assert fix.passed, f"{where}: the fix did not pass the check"
        assert _outcome(task_dir, name, ("naive", "fix")).passed, f"{where}: A's path failed"


@pytest.mark.parametrize(
    "task_dir", [d for d in TASK_DIRS if _load(d)["negative_control"]], ids=lambda d: d.name
)
def test_a_negative_controls_foreign_lesson_fails_its_check(task_dir: Path) -> None:
    """In the control project the naive path is right and the foreign lesson's fix is harm."""
    task = _load(task_dir)
    naive = _outcome(task_dir, task["project_b"], ("naive",))
    assert not any(naive.codes), f"{task['id']}: the right path fails:\n{naive.output}"
    assert naive.passed, f"{task['id']}: the right path fails the check"
    assert not _outcome(task_dir, task["project_b"], ("fix",)).passed, "the foreign lesson passed"
    lesson_source = _load(TASKS / task["learn_from"])
    assert re.search(task["key_line"], _lesson(lesson_source)), "B would not know the lesson"


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=_ids())
def test_key_line_matches_the_lesson_and_nothing_b_sees_without_it(task_dir: Path) -> None:
    task = _load(task_dir)
    key = re.compile(task["key_line"])
    assert key.search(_lesson(task)), f"{task['id']}: key_line misses {_lesson(task)!r}"
    if task["id"] in LESSONS:
        assert key.search(LESSONS[task["id"]]), f"{task['id']}: key_line misses the runbook line"
    for field in ("prompt_a", "prompt_b", "confirm"):  # the title is not sent to the model
        assert not key.search(task[field]), f"{task['id']}: key_line matches {field}"
    for name in _projects(task):
        for path, text in _text_files(task_dir / name).items():
            assert not key.search(text), f"{task['id']}: key_line is in {name}/{path}"
        naive = _outcome(task_dir, name, ("naive",))
        assert not key.search(naive.output), f"{task['id']}: naive output has the key line"


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=_ids())
def test_failing_signature_finds_the_mistake_and_not_the_right_path(task_dir: Path) -> None:
    """The harness counts a repeated mistake when the signature matches a command that failed
    in B: a naive command that fails (a task), a foreign-lesson command that fails (a
    control). The first move of the right path never matches (it is what an agent that knows
    runs)."""
    task = _load(task_dir)
    signature = re.compile(task["failing_signature"])
    mistake, right = ("fix", "naive") if task["negative_control"] else ("naive", "fix")
    project = task["project_b"] if task["negative_control"] else task["project_a"]
    codes = _outcome(task_dir, project, (mistake,)).codes
    failed = [c for c, code in zip(task[mistake], codes, strict=True) if code != 0]
    assert any(signature.search(c) for c in failed), f"misses the failing commands {failed}"
    first = task[right][0]
    assert not signature.search(first), f"matches the {right} path's first command {first!r}"


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=_ids())
def test_a_projects_env_plants_a_canary_named_after_its_task(task_dir: Path) -> None:
    """A fixed canary secret in the project's `.env` (the harness adds a fresh one per run
    there too, and greps the data home, the skills repo and the synced folders for leaks).
    Every planted canary names its task, so a leak found points at the task it came from."""
    task = _load(task_dir)
    for name in _projects(task):
        files = _text_files(task_dir / name)
        if ".env" in files:
            assert CANARY in files[".env"], f"{task['id']}/{name}/.env plants no {CANARY}"
        for path, text in files.items():
            for token in re.findall(CANARY + r"[\w-]+", text):
                assert token.startswith(f"{CANARY}{task['id']}_"), f"{name}/{path}: {token}"


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=_ids())
def test_commands_and_checker_use_no_network_tools(task_dir: Path) -> None:
    """The runs themselves are isolated (see _isolation); this names the culprit early."""
    task = _load(task_dir)
    scripts = [*task["naive"], *task["fix"], (task_dir / task["check"]).read_text()]
    for text in scripts:
        assert not NETWORK_TOOLS.search(text), f"{task['id']}: {text!r} uses the network"

"""Learning cost per value: LLM tokens and calls per finished task on a 30-session workload.

A mixed workload of 30 realistic sessions over five weeks (imported history: each session
carries its own date) in three projects runs through the real pipeline in a fresh temp data
home, session by session as the worker does once a session goes quiet: `pipeline.learn_task`
for each of its finished tasks, then `pipeline.learn_space` until no learning waits. Real
store, real skills git repository, real workspace, commits, index refresh and sync (into temp
dirs). The sessions hold:

- new work with a lesson: build, deploy and migration procedures and traps, 5-30 messages with
  tool calls (Read/Bash/Edit) and their results (source listings, test output, diffs);
- repeats of the same chore or trap across sessions ("Run the tests again", the flaky test
  that fails again, the migration that breaks again);
- multi-todo requests (one request, three todos: one task with three progress notes);
- trivia (a one-line question and answer) and changes of mind ("never mind, leave it": a task
  the user dropped, outcome `abandoned`).
Outcomes and evidence are set as engineer A's capture settles them (test results, exit codes).

The model is the in-process FakeProvider (tests/support/fake_provider.py) behaving like a good
one, whatever the pipeline asks: distillation answers the tool it is offered (the structured
`record_lesson` entry when offered, else the older `report_*_analysis`), with specific text
(commands, error words, paths); the skill learner looks before it writes (get_skill,
get_skill_file), reports its plan, edits or creates the fitting skill file and the day's log,
and finishes (four requests per run).

Tokens are ESTIMATED as characters / 4, no tokenizer: input = everything a provider would send
per request (system prompt, messages incl. earlier rounds and tool results, tool schemas; see
`request_chars`); output = the reply's text plus each tool call's name and JSON arguments.
A learner run's tokens and requests are shared equally by the learnings it recorded.

Printed: per finished task, the median and mean of LLM tokens and of LLM calls, the share of
tasks that cost no call, and how many finished tasks the default ACONTEXT_LLM_DAILY_TOKENS
covers (budget / mean tokens per finished task); medians of `--runs` runs (seeds 0, 1, ...:
message sizes differ between runs). `--many N` adds N unrelated skills to the repository.

    python bench/bench_learn_tokens.py [--runs 3] [--many 0] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from _support import code, prose  # noqa: E402
from support.fake_provider import FakeProvider, call, request_chars, tools  # noqa: E402

from acontext_mcp.config import DEFAULT_LLM_DAILY_TOKENS, Settings  # noqa: E402
from acontext_mcp.learn import pipeline  # noqa: E402
from acontext_mcp.llm import Reply, ToolCall  # noqa: E402
from acontext_mcp.skills import repo  # noqa: E402
from acontext_mcp.skills.defaults import prepare  # noqa: E402
from acontext_mcp.store import learning  # noqa: E402
from acontext_mcp.store import tasks as task_store  # noqa: E402
from acontext_mcp.store.db import atomic, open_db  # noqa: E402
from acontext_mcp.store.turns import store_turn  # noqa: E402

PROJECTS = ["billing-api", "web-dashboard", "etl-jobs"]
FIRST_DAY = datetime(2026, 11, 2, 9, 30)
RUNBOOK = "project-runbooks"


# --- The lessons and the sessions ---------------------------------------------------------------


@dataclass
class Lesson:
    """What a good model learns from a task of this kind: one entry for one skill file."""

    kind: str  # trap | procedure | fact | preference
    skill: str
    file: str
    section: str
    title: str
    text: str
    triggers: list[str]
    commands: list[str]
    result: str  # what the last command printed
    new_skill: str = ""  # the description, when `skill` does not exist yet


def _runbook(project: str) -> str:
    return f"projects/{project}.md"


LESSONS: dict[str, Lesson] = {}
for _p, _n in (("billing-api", 214), ("web-dashboard", 96), ("etl-jobs", 57)):
    LESSONS[f"tests:{_p}"] = Lesson(
        "procedure",
        RUNBOOK,
        _runbook(_p),
        "Test",
        "Run the test suite",
        f"From the repository root run `pytest -x -q` ({_n} tests, about 10 s); "
        "`pytest tests/test_x.py -k name` runs one test; a stale `.pytest_cache` is harmless.",
        ["run tests", "pytest", "test suite"],
        ["pytest -x -q"],
        f"{_n} passed in 9.8s",
    )
LESSONS.update(
    {
        "flaky": Lesson(
            "trap",
            RUNBOOK,
            _runbook("billing-api"),
            "Traps",
            "tests/test_sessions.py fails in random order",
            "`pytest tests/test_sessions.py` fails with `AssertionError: session cache not "
            "empty` under pytest-randomly: the module-scoped `cache` fixture leaks state; "
            "`pytest -p no:randomly` passes, the fix is a function-scoped fixture.",
            ["flaky", "test_sessions", "pytest-randomly", "session cache"],
            ["pytest tests/test_sessions.py", "pytest -p no:randomly tests/test_sessions.py"],
            "1 failed, 31 passed: AssertionError: session cache not empty",
        ),
        "migrate": Lesson(
            "trap",
            RUNBOOK,
            _runbook("etl-jobs"),
            "Traps",
            "`python -m app migrate` stops on a duplicate column",
            "`python -m app migrate` fails with `sqlite3.OperationalError: duplicate column "
            "name: invoice_id` after a half-applied migration 0007; check with `sqlite3 "
            "app.db .schema invoices`, then `python -m app migrate --fake 0007`.",
            ["migrate", "migration", "duplicate column", "OperationalError", "invoices"],
            ["python -m app migrate", "sqlite3 app.db .schema invoices"],
            "sqlite3.OperationalError: duplicate column name: invoice_id",
        ),
        "deploy:web-dashboard": Lesson(
            "procedure",
            "docker-deploy",
            "procedures.md",
            "",
            "Deploy web-dashboard",
            "`docker compose up -d --build` from web-dashboard/, then `docker logs -f web` "
            "until `ready on :3000`; build with `NODE_ENV=production` or the bundle ships dev "
            "assets (12 MB instead of 2 MB).",
            ["deploy", "docker compose", "web-dashboard"],
            ["docker compose up -d --build", "docker logs -f web"],
            "ready on :3000",
            new_skill="Deploying this user's services with Docker and compose; use when "
            "building images, changing compose files or debugging a container that will "
            "not start.",
        ),
        "deploy:billing-api": Lesson(
            "procedure",
            "docker-deploy",
            "procedures.md",
            "",
            "Deploy billing-api",
            "`docker compose -f compose.prod.yml up -d --build`; the api waits for postgres: "
            "without `depends_on: condition: service_healthy` it crash-loops on "
            "`connection refused`.",
            ["deploy", "docker compose", "billing-api", "crash loop"],
            ["docker compose -f compose.prod.yml up -d --build", "docker logs -f api"],
            "api ready on :8000",
        ),
        "shrink": Lesson(
            "procedure",
            "docker-deploy",
            "procedures.md",
            "",
            "Shrink a node image",
            "A multi-stage build (`FROM node:20-alpine AS build`, then copy `dist/` into "
            "`nginx:alpine`) took web-dashboard from 1.1 GB to 168 MB (`docker image ls`).",
            ["image size", "multi-stage", "docker image"],
            ["docker build -t web .", "docker image ls web"],
            "web latest 168MB",
        ),
        "wheel": Lesson(
            "procedure",
            "python-packaging",
            "procedures.md",
            "",
            "Build and publish a wheel",
            "Remove `dist/` first (a stale 0.3.0 wheel was uploaded once), run `python -m "
            "build`, `twine check dist/*`, then `twine upload dist/*` with the PyPI token "
            "from the keyring.",
            ["wheel", "publish", "python -m build", "twine"],
            ["rm -rf dist", "python -m build", "twine check dist/*"],
            "Checking dist/etl_jobs-0.4.0-py3-none-any.whl: PASSED",
            new_skill="How this user's Python packages are built and published; use when "
            "building wheels, bumping versions or fixing pip install errors.",
        ),
        "bump": Lesson(
            "procedure",
            "python-packaging",
            "procedures.md",
            "",
            "Bump the version and tag",
            "The version lives only in `src/etl_jobs/__init__.py` (hatch reads it); bump it, "
            "`git tag v0.4.1`, `git push --tags`: CI publishes on a tag.",
            ["version", "release", "tag"],
            ["hatch version minor", "git tag v0.4.1"],
            "etl-jobs 0.4.1",
        ),
        "csv": Lesson(
            "procedure",
            RUNBOOK,
            _runbook("billing-api"),
            "Test",
            "Frontend checks",
            "In `web/` run `pnpm lint` and `pnpm test -- --run` (vitest stays in watch mode "
            "without `--run`); the export endpoint test is `pytest tests/test_export.py`.",
            ["pnpm test", "vitest", "export"],
            ["pytest tests/test_export.py", "pnpm lint", "pnpm test -- --run"],
            "Test Files  4 passed (4)",
        ),
        "pnpm": Lesson(
            "preference",
            "user-general-facts",
            "coding-preferences.md",
            "",
            "pnpm in web-dashboard",
            "The user wants pnpm, never npm, in web-dashboard (`pnpm install`, `pnpm test`); "
            "`package-lock.json` must not be committed.",
            ["pnpm", "npm", "web-dashboard"],
            ["pnpm install"],
            "Done in 4.1s",
        ),
        "index": Lesson(
            "procedure",
            RUNBOOK,
            _runbook("etl-jobs"),
            "Run",
            "Slow events query",
            "`EXPLAIN QUERY PLAN` showed a full scan of `events`; `CREATE INDEX events_ts ON "
            "events(ts)` in migration 0009 took the nightly query from 4 s to 30 ms.",
            ["slow query", "index", "EXPLAIN QUERY PLAN", "events"],
            ["sqlite3 app.db 'EXPLAIN QUERY PLAN SELECT * FROM events WHERE ts > ?'"],
            "SEARCH events USING INDEX events_ts (ts>?)",
        ),
    }
)


@dataclass
class Task:
    description: str
    project: str
    lesson: str = ""  # a LESSONS key; "" for trivia and dropped tasks
    status: str = "success"
    outcome: str = "verified_success"
    kind: str = "work"  # work | repeat | todos | trivia | dropped
    todos: list[str] = field(default_factory=list)


def _tests(p: str, again: bool) -> Task:
    if again:
        return Task("Run the tests again", p, f"tests:{p}", kind="repeat")
    return Task(f"Run the tests of {p}", p, f"tests:{p}")


def _flaky(again: bool) -> Task:
    if again:
        return Task(
            "The test_sessions test is flaky again, fix it", "billing-api", "flaky", kind="repeat"
        )
    return Task(
        "Fix the flaky test in tests/test_sessions.py",
        "billing-api",
        "flaky",
        status="failed",
        outcome="verified_failure",
    )


def _migrate(again: bool) -> Task:
    if again:
        return Task("The invoices migration fails again", "etl-jobs", "migrate", kind="repeat")
    return Task(
        "Fix the failing migration of invoices",
        "etl-jobs",
        "migrate",
        status="failed",
        outcome="verified_failure",
    )


def _trivia(p: str, question: str) -> Task:
    return Task(question, p, kind="trivia", outcome="unverified")


def _dropped(p: str, what: str) -> Task:
    return Task(what, p, status="failed", outcome="abandoned", kind="dropped")


B, W, E = PROJECTS


def sessions() -> list[list[Task]]:
    """The 30 sessions, in date order."""
    csv = Task(
        "Add CSV export to the invoices page",
        B,
        "csv",
        kind="todos",
        todos=[
            "Add the /invoices/export.csv endpoint",
            "Add the download button",
            "Add tests for the export",
        ],
    )
    return [
        [_tests(B, False), csv],
        [
            Task("Deploy web-dashboard with docker compose", W, "deploy:web-dashboard"),
            _trivia(W, "Which port does the dev server use?"),
        ],
        [Task("Build and publish the wheel for etl-jobs", E, "wheel")],
        [_flaky(False)],
        [_tests(B, True)],
        [_migrate(False), _trivia(E, "What does --dry-run do in etl-jobs?")],
        [
            Task("Use pnpm, not npm, in web-dashboard", W, "pnpm", outcome="unverified"),
            _tests(W, False),
        ],
        [_dropped(B, "Add Redis caching to the orders endpoint")],
        [_tests(B, True), _flaky(True)],
        [Task("Bump the version of etl-jobs and tag the release", E, "bump")],
        [Task("Shrink the web-dashboard image below 200 MB", W, "shrink")],
        [_migrate(True)],
        [_tests(B, True)],
        [_tests(W, True), _trivia(W, "Which Node version is pinned?")],
        [Task("Add an index for the slow events query", E, "index")],
        [Task("Deploy billing-api with docker compose", B, "deploy:billing-api")],
        [_tests(E, False)],
        [_flaky(True), _tests(B, True)],
        [_dropped(W, "Rename the users table to accounts")],
        [_tests(E, True), _trivia(E, "Where is the retry limit set?")],
        [_tests(B, True)],
        [_migrate(True)],
        [_tests(W, True)],
        [_trivia(B, "Which Python version does billing-api use?")],
        [Task("Build and publish the wheel for etl-jobs again", E, "wheel", kind="repeat")],
        [_tests(B, True)],
        [
            Task(
                "Deploy web-dashboard with docker compose again",
                W,
                "deploy:web-dashboard",
                kind="repeat",
            )
        ],
        [_tests(E, True)],
        [_flaky(True)],
        [_tests(W, True), _trivia(W, "What is the staging URL?")],
    ]


def _tool(rng: random.Random, name: str, args: dict[str, Any], result: str) -> list[dict]:
    cid = f"call-{rng.getrandbits(40):x}"
    return [
        {
            "role": "assistant",
            "content": prose(rng, rng.randint(60, 240)),
            "tool_calls": [
                {
                    "id": cid,
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": cid, "content": result},
    ]


def task_messages(rng: random.Random, task: Task) -> list[dict[str, Any]]:
    """One task in OpenAI format, sized like a real one of its kind."""
    if task.kind == "trivia":
        return [
            {"role": "user", "content": task.description},
            {"role": "assistant", "content": "It is set in the config: 8080 by default."},
        ]
    user = {"role": "user", "content": f"{task.description}. " + prose(rng, rng.randint(80, 300))}
    if task.kind == "dropped":
        return [
            user,
            *_tool(rng, "Read", {"file_path": "src/orders.py"}, code(rng, 1500)),
            {"role": "assistant", "content": "I will add a cache layer in src/orders.py."},
            {"role": "user", "content": "Never mind, leave it as it is."},
            {"role": "assistant", "content": "OK, I left everything unchanged."},
        ]
    lesson = LESSONS[task.lesson]
    messages = [user]
    steps = rng.randint(2, 5) if task.kind == "repeat" else rng.randint(4, 14)
    for _ in range(steps):
        kind = rng.choice(["Read", "Bash", "Edit"])
        if kind == "Read":
            messages += _tool(
                rng,
                "Read",
                {"file_path": f"src/{rng.choice(PROJECTS)}.py"},
                code(rng, rng.randint(600, 3000)),
            )
        elif kind == "Bash":
            command = rng.choice(lesson.commands)
            out = f"$ {command}\n{prose(rng, rng.randint(200, 1200))}\n{lesson.result}"
            messages += _tool(rng, "Bash", {"command": command}, out)
        else:
            old = code(rng, rng.randint(80, 300))
            args = {"file_path": "src/app.py", "old_string": old, "new_string": old + "\n"}
            messages += _tool(rng, "Edit", args, "The file has been updated.")
    command = lesson.commands[-1]
    messages += _tool(rng, "Bash", {"command": command}, f"$ {command}\n{lesson.result}")
    messages.append({"role": "assistant", "content": "Done. " + prose(rng, rng.randint(100, 400))})
    return messages


def seed(settings: Settings, rng: random.Random) -> dict[tuple[str, str], Task]:
    """Store the 30 sessions with their tasks, outcomes and evidence; (session, desc) -> task."""
    projects = settings.home.parent / "projects"
    for name in PROJECTS:
        (projects / name).mkdir(parents=True, exist_ok=True)
    conn = open_db(settings)
    known: dict[tuple[str, str], Task] = {}
    try:
        for n, tasks in enumerate(sessions()):
            sid = f"bench-{n + 1:02d}"
            when = FIRST_DAY + timedelta(days=n * 33 // 30, hours=n % 5)
            for task in tasks:
                stamp = when.isoformat() + "Z"
                stored = store_turn(
                    conn,
                    settings,
                    task_messages(rng, task),
                    session_id=sid,
                    project_dir=str(projects / task.project),
                    meta={"timestamp": stamp},
                )
                with atomic(conn):
                    row = task_store.insert_task(conn, sid, task.description, status=task.status)
                    task_store.link_messages(conn, row["id"], stored["message_ids"])
                    for todo in task.todos:
                        task_store.update_task_by_id(conn, row["id"], add_progress=todo)
                    task_store.set_outcome(conn, row["id"], task.outcome)
                    if task.lesson and task.kind != "dropped":
                        lesson = LESSONS[task.lesson]
                        verdict = "fail" if task.outcome == "verified_failure" else "pass"
                        task_store.add_evidence(
                            conn,
                            row["id"],
                            "test",
                            verdict,
                            command=lesson.commands[-1],
                            detail=lesson.result,
                        )
                known[(sid, task.description)] = task
                when += timedelta(minutes=40)
    finally:
        conn.close()
    return known


def many_skills(settings: Settings, count: int, rng: random.Random) -> None:
    """`count` unrelated skills with realistic descriptions, committed as the user's."""
    topics = [
        "react-forms",
        "k8s-ingress",
        "terraform-state",
        "graphql-errors",
        "redis-cache",
        "celery-retries",
        "nginx-tls",
        "oauth-refresh",
        "pandas-memory",
        "rust-ffi",
    ]
    for i in range(count):
        name = f"{topics[i % len(topics)]}-{i}"
        description = " ".join(f"Notes on {name.replace('-', ' ')}: {prose(rng, 160)}".split())
        folder = settings.skills_dir / name
        folder.mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\nNotes.\n"
        )
        (folder / "notes.md").write_text(f"# {name}\n\n- First note of {name}.\n")
    repo.protect_user_edits(settings.skills_dir)


# --- The model ----------------------------------------------------------------------------------

_LEARNING = re.compile(
    r"^### Learning \d+ \(task: (.*?)(?:; project: [^;)]*)?(?:; date: (\S+))?\)$", re.M
)
_SKILL_LINE = re.compile(r"^- \*\*([a-z0-9-]+)\*\*", re.M)
_FILES = re.compile(r"^- (\S+)$", re.M)


class Model:
    """A good model for every learning stage; records output characters per purpose."""

    def __init__(self, known: dict[tuple[str, str], Task]) -> None:
        self.known = known
        self.by_description: dict[str, deque[Task]] = {}
        for (_sid, description), task in sorted(known.items()):
            self.by_description.setdefault(description, deque()).append(task)
        self.out_chars: dict[str, int] = {}
        self.created = {RUNBOOK, "daily-logs", "user-general-facts"}
        self.provider = FakeProvider(exhausted=self.answer)

    def answer(self, request: dict[str, Any]) -> Reply:
        if request["purpose"] == "skill_distillation":
            reply = self.distill(request)
        else:
            reply = self.learn(request)
        size = len(reply.text) + sum(
            len(c.name) + len(c.raw_arguments or "") for c in reply.tool_calls
        )
        self.out_chars[request["purpose"]] = self.out_chars.get(request["purpose"], 0) + size
        return reply

    # distillation

    def distill(self, request: dict[str, Any]) -> Reply:
        prompt = request["messages"][0]["parts"][0]["text"]
        description = re.search(r"^Description: (.*)$", prompt, re.M).group(1)  # type: ignore[union-attr]
        task = self.known[(request["session_id"], description)]
        offered = {t.name for t in request["tools"]}
        if not task.lesson or task.kind == "trivia":
            if "skip_learning" in offered:
                return tools(call("skip_learning", reason="A lookup with nothing to reuse."))
            return tools(self.failure(task, LESSONS["tests:" + task.project]))
        lesson = LESSONS[task.lesson]
        if "record_lesson" in offered:
            listed = set(_SKILL_LINE.findall(prompt))
            args: dict[str, Any] = {
                "kind": lesson.kind,
                "skill": lesson.skill,
                "file": lesson.file,
                "section": lesson.section,
                "title": lesson.title,
                "text": lesson.text,
                "triggers": lesson.triggers,
                "summary": f"{description}: {lesson.result.splitlines()[-1][:80]}.",
            }
            if lesson.skill not in listed and lesson.new_skill:
                args["new_skill_description"] = lesson.new_skill
            return tools(call("record_lesson", **args))
        if "report_success_analysis" not in offered:
            return tools(self.failure(task, lesson))
        if lesson.kind in ("fact", "preference"):
            return tools(call("report_factual_content", task_goal=description, facts=[lesson.text]))
        return tools(
            call(
                "report_success_analysis",
                task_goal=description,
                approach=f"Ran `{'`, `'.join(lesson.commands)}`. {lesson.text}",
                key_decisions=[lesson.text.split(";")[0]],
                generalizable_pattern=lesson.title,
                applies_when=f"{task.project}: {', '.join(lesson.triggers)}",
            )
        )

    @staticmethod
    def failure(task: Task, lesson: Lesson) -> ToolCall:
        return call(
            "report_failure_analysis",
            task_goal=task.description,
            failure_point=f"`{lesson.commands[-1]}` printed {lesson.result}",
            flawed_reasoning="The agent assumed the first error named the cause.",
            what_should_have_been_done=lesson.text,
            prevention_principle=lesson.title,
            applies_when=f"{task.project}: {', '.join(lesson.triggers)}",
        )

    # the skill learner

    def _batch(self, prompt: str) -> list[tuple[Task, str]]:
        """(task, day) of each learning; those the pipeline asks only for a new skill's
        SKILL.md (it writes the entry itself) go to `self.create_only`."""
        today = re.search(r"(?:Today's date|Date of the work): (\S+)", prompt)
        out = []
        self.create_only: dict[str, str] = {}
        blocks = prompt.split("### Learning ")[1:]
        for block, (description, day) in zip(blocks, _LEARNING.findall(prompt), strict=True):
            queue = self.by_description[description]
            task = queue[0] if len(queue) == 1 else queue.popleft()
            if "**What to do:** Create the skill" in block:
                lesson = LESSONS[task.lesson]
                self.create_only[lesson.skill] = lesson.new_skill
                continue
            out.append((task, day or (today.group(1) if today else "2026-12-05")))
        return out

    @staticmethod
    def _target(task: Task) -> Lesson:
        if task.lesson:
            return LESSONS[task.lesson]
        # A dropped task, learned as a failure by the older pipeline.
        return Lesson(
            "trap",
            RUNBOOK,
            _runbook(task.project),
            "Traps",
            task.description,
            "The user changed their mind; nothing was done.",
            [],
            [],
            "",
        )

    @staticmethod
    def _results(convo: list[dict[str, Any]], index: int) -> dict[str, str]:
        """Tool results of the reply at convo[index - 1], by call: name + JSON args."""
        calls = {
            p["id"]: f"{p['name']} {p['arguments']}"
            for p in convo[index - 1]["parts"]
            if p.get("type") == "tool-call"
        }
        return {
            calls[p["tool_call_id"]]: p["content"][0]["text"]
            for p in convo[index]["parts"]
            if p.get("tool_call_id") in calls
        }

    def learn(self, request: dict[str, Any]) -> Reply:
        convo = request["messages"]
        prompt = convo[0]["parts"][0]["text"]
        batch = self._batch(prompt) if len(convo) == 1 else self.current
        listing = prompt.split("## Available skills", 1)[1]
        # A long list leaves some out; the model knows the defaults and what it created.
        existing = set(_SKILL_LINE.findall(listing)) | self.created
        rounds = (len(convo) - 1) // 2
        if rounds == 0:
            self.current = batch
            skills = {self._target(t).skill for t, _ in batch} & existing
            return tools(
                *(call("get_skill", skill_name=s) for s in sorted(skills | {"daily-logs"}))
            )
        files: dict[str, set[str]] = {}
        for key, text in self._results(convo, 2).items():
            name = json.loads(key.split(" ", 1)[1])["skill_name"]
            files[name] = set(_FILES.findall(text))
        if rounds == 1:
            reads = {(self._target(t).skill, self._target(t).file) for t, _ in batch}
            reads |= {("daily-logs", f"logs/{day}.md") for _, day in batch}
            reads = {(s, f) for s, f in reads if f in files.get(s, set())}
            plan = "; ".join(f"{t.description} -> {self._target(t).skill}" for t, _ in batch)
            plan += "".join(f"; create {name}" for name in self.create_only)
            return tools(
                call("report_thinking", thinking=f"Record: {plan}, and the day's log."),
                *(call("get_skill_file", skill_name=s, file_path=f) for s, f in sorted(reads)),
            )
        if rounds == 2:
            read = {}
            for key, value in self._results(convo, 4).items():
                if key.startswith("get_skill_file"):
                    args = json.loads(key.split(" ", 1)[1])
                    read[(args["skill_name"], args["file_path"])] = value
            writes: dict[tuple[str, str], list[str]] = {}
            created: dict[str, str] = dict(self.create_only)
            self.created |= set(created)
            for task, day in batch:
                lesson = self._target(task)
                entry = f"## {lesson.title} (date: {day})\n- {lesson.text}\n"
                writes.setdefault((lesson.skill, lesson.file), []).append(entry)
                log = f"## {task.description}\n{task.project}: {lesson.title}.\n"
                writes.setdefault(("daily-logs", f"logs/{day}.md"), []).append(log)
                if lesson.skill not in existing:
                    created[lesson.skill] = lesson.new_skill or "Notes."
                    self.created.add(lesson.skill)
            calls = []
            for name, description in created.items():
                title = name.replace("-", " ").capitalize()
                calls.append(
                    call(
                        "create_skill",
                        skill_md_content=(
                            f"---\nname: {name}\ndescription: {description}\n---\n\n# {title}\n\n"
                            "Procedures and traps met in this domain.\n\n## File structure\n"
                            "- `procedures.md`: one section per procedure, newest last.\n\n"
                            "## Guidelines\n- Keep entries short and concrete.\n"
                        ),
                    )
                )
            for (skill, path), entries in sorted(writes.items()):
                body = "\n".join(entries)
                current = read.get((skill, path))
                if current is None:
                    head = f"# {path.split('/')[-1][:-3]}\n\n"
                    calls.append(
                        call(
                            "create_skill_file",
                            skill_name=skill,
                            file_path=path,
                            content=head + body,
                        )
                    )
                else:
                    last = current[current.rfind("\n## ") + 1 :] if "\n## " in current else current
                    if current.count(last) > 1:  # quoted with enough context to be unique
                        last = current
                    calls.append(
                        call(
                            "str_replace_skill_file",
                            skill_name=skill,
                            file_path=path,
                            old_string=last,
                            new_string=last + "\n\n" + body,
                        )
                    )
            return tools(*calls)
        return tools(call("finish"))


# --- One run ------------------------------------------------------------------------------------


def _env(root: Path) -> Settings:
    for name, sub in (
        ("CLAUDE_CONFIG_DIR", "claude"),
        ("OPENCLAW_STATE_DIR", "openclaw"),
        ("HOME", "user"),
        ("ACONTEXT_HOME", "home"),
    ):
        os.environ[name] = str(root / sub)
    settings = Settings(home=root / "home", skills_dir=root / "home" / "skills")
    settings.ensure_dirs()
    prepare(settings)
    return settings


def run_once(seed_value: int, extra_skills: int) -> dict[str, Any]:
    rng = random.Random(seed_value)
    with tempfile.TemporaryDirectory(prefix="bench-learn-") as tmp:
        settings = _env(Path(tmp))
        if extra_skills:
            many_skills(settings, extra_skills, rng)
        known = seed(settings, rng)
        model = Model(known)
        pipeline._provider = lambda conn, settings: model.provider  # type: ignore[assignment]
        conn = open_db(settings)
        try:
            rows = conn.execute("SELECT id, session_id, description FROM tasks ORDER BY id")
            tasks = [(r[0], r[1], r[2]) for r in rows]
            started = time.perf_counter()
            runs = 0
            for n, (task_id, sid, _) in enumerate(tasks):
                pipeline.learn_task(conn, settings, {"task_id": task_id, "session_id": sid})
                if n + 1 < len(tasks) and tasks[n + 1][1] == sid:
                    continue  # the worker learns a session's tasks once it has gone quiet
                while learning.waiting_count(conn, "default"):
                    out = pipeline.learn_space(conn, settings, {"space": "default"})
                    assert out.get("outcome") is None and not out.get("tool_errors"), out
                    runs += 1
            elapsed = time.perf_counter() - started
            logs = sorted(p.name for p in (settings.skills_dir / "daily-logs").rglob("*.md"))
            shown = [
                f"{RUNBOOK}/projects/billing-api.md",
                "docker-deploy/SKILL.md",
                "docker-deploy/procedures.md",
                "user-general-facts/coding-preferences.md",
                f"daily-logs/logs/{logs[0]}" if logs else "",
            ]
            sample = "\n".join(
                f"--- {rel}\n{(settings.skills_dir / rel).read_text()}"
                for rel in shown
                if rel and (settings.skills_dir / rel).is_file()
            )
        finally:
            conn.close()
    return measure(model, tasks, runs, elapsed) | {"logs": logs, "sample": sample}


def measure(
    model: Model, tasks: list[tuple[int, str, str]], runs: int, elapsed: float
) -> dict[str, Any]:
    """Tokens and calls per finished task: its distillation, plus its share of learner runs."""
    tokens = {task_id: 0.0 for task_id, _, _ in tasks}
    calls = {task_id: 0.0 for task_id, _, _ in tasks}
    ids = {(sid, desc): task_id for task_id, sid, desc in tasks}
    pending: dict[str, deque[int]] = {}
    for task_id, _, desc in tasks:
        pending.setdefault(desc, deque()).append(task_id)
    requests = model.provider.requests
    run: list[int] = []
    for request in requests:
        size = request_chars(request) / 4
        if request["purpose"] == "skill_distillation":
            prompt = request["messages"][0]["parts"][0]["text"]
            desc = re.search(r"^Description: (.*)$", prompt, re.M).group(1)  # type: ignore[union-attr]
            owners = [ids[(request["session_id"], desc)]]
        else:
            if len(request["messages"]) == 1:
                prompt = request["messages"][0]["parts"][0]["text"]
                run = [pending[d].popleft() for d, _ in _LEARNING.findall(prompt)]
            owners = run
        for owner in owners:
            tokens[owner] += size / len(owners)
            calls[owner] += 1 / len(owners)
    out_total = sum(model.out_chars.values()) / 4
    in_total = sum(tokens.values())
    for task_id in tokens:  # output tokens shared in proportion to input
        tokens[task_id] += out_total * tokens[task_id] / in_total if in_total else 0
    values = list(tokens.values())
    called = [v for v in values if v] or [0.0]
    learner_runs = sum(
        1 for r in requests if r["purpose"] == "skill_learning" and len(r["messages"]) == 1
    )
    return {
        "median_called": statistics.median(called),
        "tasks": len(tasks),
        "median_tokens": statistics.median(values),
        "mean_tokens": statistics.mean(values),
        "median_calls": statistics.median(calls.values()),
        "mean_calls": statistics.mean(calls.values()),
        "free": sum(1 for v in calls.values() if v == 0) / len(calls),
        "requests": len(requests),
        "learner_runs": learner_runs,
        "space_runs": runs,
        "ms": elapsed * 1000 / len(tasks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--many", type=int, default=0, help="unrelated skills added first")
    parser.add_argument("--quick", action="store_true", help="one run")
    parser.add_argument("--show", action="store_true", help="print a runbook and the log days")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ACONTEXT_LLM_BASE_URL",
    ):
        os.environ.pop(name, None)  # the fake model only; nothing may reach a real one
    os.environ["ACONTEXT_WORKER"] = "off"
    started = time.perf_counter()
    results = [run_once(seed_value=run, extra_skills=args.many) for run in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    budget = DEFAULT_LLM_DAILY_TOKENS
    print(
        f"Python {sys.version.split()[0]}; 30 sessions, {results[0]['tasks']} finished tasks, "
        f"{3 + args.many} skills at the start; median of {args.runs} run(s); "
        "tokens = characters / 4 (an estimate, not a tokenizer count)\n"
    )
    print(
        f"tokens per finished task   median {med('median_tokens'):>7,.0f}   "
        f"mean {med('mean_tokens'):>7,.0f}"
    )
    print(
        f"LLM calls per finished task median {med('median_calls'):>6.2f}   "
        f"mean {med('mean_calls'):>7.2f}"
    )
    print(f"tasks with no LLM call     {med('free'):>7.0%}")
    print(f"tokens per task that called median {med('median_called'):>7,.0f}")
    print(
        f"LLM requests in all        {med('requests'):>7.0f}   learner tool loops "
        f"{med('learner_runs'):.0f} (of {med('space_runs'):.0f} learn_space runs)"
    )
    print(
        f"default daily budget       {budget:,} tokens covers "
        f"{budget / med('mean_tokens'):,.0f} finished tasks (budget / mean)"
    )
    print(f"wall time per task         {med('ms'):>7.0f} ms")
    if args.show:
        print("\ndaily-log files:", ", ".join(results[0]["logs"]))
        print("\n" + results[0]["sample"])
    print(f"\nTotal {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()

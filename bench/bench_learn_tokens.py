"""Learning cost: LLM tokens per finished task spent by distillation and the skill learner.

For N finished tasks of realistic size (a coding task: a prompt, 5-30 linked messages with tool
calls for Read/Bash/Edit and their results: source listings, pytest output, diffs), the real
pipeline runs in a fresh temp data home: `pipeline.learn_task` for every task (one distillation
call each), then `pipeline.learn_space` until no learning waits (one learner run per batch of up
to `pipeline.MAX_BATCH` learnings): real store, real skills git repository, real overlay
workspace, real commits, index refresh and sync (into temp dirs).

The model is the in-process FakeProvider (tests/support/fake_provider.py) behaving like a good
one. Distillation answers with one report_success_analysis of realistic length. The learner, in
four rounds: opens the fitting skill of each learning's domain (get_skill, get_skill_file of
SKILL.md and procedures.md; without a fitting skill it looks at project-runbooks instead), calls
report_thinking, then either str_replace_skill_file (quoting the file's last entry, as a real
model must to anchor the edit) or create_skill + create_skill_file, and finally finish. Tasks
cycle over four domains, so the first learnings create skills and later ones update them.

Tokens are ESTIMATED as characters / 4, no tokenizer: input = everything a provider would send
per request (system prompt, messages incl. earlier rounds and tool results, tool schemas; see
`request_chars`); output = the reply's text plus each tool call's name and JSON arguments.

Reported per configuration: learner runs, requests, input and output tokens per finished task
for distillation, for the learner and in total, tokens per learner run, the learner's first
request (its prompt carries the skill list: it grows with the number of skills), and the wall
time per task of the whole pipeline; median of `--runs` runs (seeds 0, 1, ...: the task sizes
differ between runs).
Configurations: N = 1, 4, 16 with batches of up to 4 (the default); 4 and 16 with batches of 1
(what happens when a worker learns each task as soon as it is distilled); 4 with 50 more skills
in the repository.

    python bench/bench_learn_tokens.py [--tasks 1 4 16] [--runs 3] [--many 50] [--quick]
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from _support import code, prose  # noqa: E402
from support.fake_provider import FakeProvider, call, request_chars, tools  # noqa: E402

from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.learn import pipeline  # noqa: E402
from acontext_mcp.llm import Reply  # noqa: E402
from acontext_mcp.skills import repo  # noqa: E402
from acontext_mcp.skills.defaults import prepare  # noqa: E402
from acontext_mcp.store import learning  # noqa: E402
from acontext_mcp.store.db import atomic, open_db  # noqa: E402
from acontext_mcp.store.tasks import insert_task, link_messages  # noqa: E402
from acontext_mcp.store.turns import store_turn  # noqa: E402

TASKS_PER_SESSION = 4

DOMAINS: dict[str, dict[str, Any]] = {
    "python-packaging": {
        "description": "How this user's Python packages are built and published; use when "
        "building wheels, bumping versions or fixing pip install errors.",
        "tasks": [
            "Build and publish the wheel for {p}",
            "Fix the pip install error in {p}",
            "Bump the version of {p} and tag the release",
        ],
        "commands": ["python -m build", "twine check dist/*", "pip install -e ."],
    },
    "pytest-debugging": {
        "description": "Finding and fixing failing or flaky pytest tests in this user's "
        "projects; use when a test fails, hangs or passes only sometimes.",
        "tasks": [
            "Fix the flaky test in tests/test_{m}.py",
            "Find why test_{m} hangs in CI",
            "Repair the fixtures broken by the {m} refactor",
        ],
        "commands": ["pytest -x -q", "pytest -p no:randomly tests/", "pytest --lf -vv"],
    },
    "docker-deploy": {
        "description": "Deploying services with Docker and compose; use when building images, "
        "changing compose files or debugging a container that will not start.",
        "tasks": [
            "Deploy {p} with docker compose",
            "Shrink the {p} image below 200 MB",
            "Fix the {p} container crash loop",
        ],
        "commands": ["docker compose up -d --build", "docker logs -f api", "docker image ls"],
    },
    "sqlite-migrations": {
        "description": "Schema migrations for the SQLite stores; use when adding tables, "
        "columns or indexes, or when a migration fails on an existing database.",
        "tasks": [
            "Add a migration for the {m} table",
            "Fix the failing migration of {m}",
            "Add an index for the slow {m} query",
        ],
        "commands": ["sqlite3 app.db .schema", "python -m app migrate", "pytest tests/test_db.py"],
    },
}
PROJECTS = ["billing-api", "acontext-mcp", "web-dashboard", "etl-jobs"]
MODULES = ["orders", "sessions", "invoices", "users", "events", "tokens"]

SKILL_TEMPLATE = """\
---
name: {name}
description: {description}
---

# {title}

Procedures and traps met in this domain, recorded from finished tasks.

## File structure
- `procedures.md`: one section per procedure, newest last.

## Guidelines
- Keep entries short and concrete: commands, files, versions, traps.
- Update an entry instead of adding a near-duplicate.
"""

_LEARNING = re.compile(r"^### Learning \d+ \(task: (.*)\)$", re.M)
_SKILL_LINE = re.compile(r"^- \*\*([a-z0-9-]+)\*\*", re.M)


# --- The sessions -----------------------------------------------------------------------------


def task_messages(rng: random.Random, description: str, domain: str) -> list[dict[str, Any]]:
    """One coding task in OpenAI format: 5-30 messages, tool calls and their results."""
    commands = DOMAINS[domain]["commands"]
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": f"{description}. " + prose(rng, rng.randint(150, 500))}
    ]
    target = rng.randint(5, 30)
    n = 0
    while len(messages) < target - 1:
        n += 1
        kind = rng.choice(["Read", "Bash", "Bash", "Edit"])
        cid = f"call-{rng.getrandbits(40):x}"
        if kind == "Read":
            args = {"file_path": f"src/{rng.choice(MODULES)}.py"}
            result = code(rng, rng.randint(600, 3000))
        elif kind == "Bash":
            args = {"command": rng.choice(commands), "description": "Run it"}
            result = "\n".join(
                [
                    f"$ {args['command']}",
                    prose(rng, rng.randint(200, 1200)),
                    f"{rng.randint(1, 80)} passed, {rng.randint(0, 2)} failed in 3.2s",
                ]
            )
        else:
            old = code(rng, rng.randint(80, 300))
            args = {
                "file_path": f"src/{rng.choice(MODULES)}.py",
                "old_string": old,
                "new_string": old.replace("data", "payload"),
            }
            result = "The file has been updated."
        messages.append(
            {
                "role": "assistant",
                "content": prose(rng, rng.randint(60, 300)),
                "tool_calls": [
                    {
                        "id": cid,
                        "type": "function",
                        "function": {"name": kind, "arguments": json.dumps(args)},
                    }
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": cid, "content": result})
    messages.append({"role": "assistant", "content": "Done. " + prose(rng, rng.randint(150, 500))})
    return messages


def seed(settings: Settings, n_tasks: int, rng: random.Random) -> dict[str, str]:
    """N finished tasks, TASKS_PER_SESSION per session; returns description -> domain."""
    projects = settings.home.parent / "projects"
    for name in PROJECTS:
        (projects / name).mkdir(parents=True, exist_ok=True)
    conn = open_db(settings)
    domains: dict[str, str] = {}
    names = list(DOMAINS)
    try:
        for i in range(n_tasks):
            domain = names[i % len(names)]
            template = rng.choice(DOMAINS[domain]["tasks"])
            description = template.format(p=rng.choice(PROJECTS), m=rng.choice(MODULES))
            description += f" (#{i + 1})"
            domains[description] = domain
            sid = f"bench-{i // TASKS_PER_SESSION}"
            stored = store_turn(
                conn,
                settings,
                task_messages(rng, description, domain),
                session_id=sid,
                project_dir=str(projects / PROJECTS[(i // TASKS_PER_SESSION) % len(PROJECTS)]),
            )
            with atomic(conn):
                task = insert_task(conn, sid, description, status="success")
                link_messages(conn, task["id"], stored["message_ids"])
    finally:
        conn.close()
    return domains


def many_skills(settings: Settings, count: int, rng: random.Random) -> None:
    """`count` more skills with realistic descriptions, committed as the user's."""
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
        description = f"Notes on {name.replace('-', ' ')}: " + prose(rng, rng.randint(120, 220))
        folder = settings.skills_dir / name
        folder.mkdir()
        text = SKILL_TEMPLATE.format(
            name=name,
            description=" ".join(description.split()),
            title=name.replace("-", " ").capitalize(),
        )
        (folder / "SKILL.md").write_text(text)
        (folder / "procedures.md").write_text(f"## First entry of {name}\n- Steps: none yet.\n")
    repo.protect_user_edits(settings.skills_dir)


# --- The model --------------------------------------------------------------------------------


class Model:
    """A good model for both stages; records output characters per purpose."""

    def __init__(self, domains: dict[str, str], today: str) -> None:
        self.domains = domains
        self.today = today
        self.out_chars: dict[str, int] = {}
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

    def distill(self, request: dict[str, Any]) -> Reply:
        prompt = request["messages"][0]["parts"][0]["text"]
        description = re.search(r"^Description: (.*)$", prompt, re.M).group(1)  # type: ignore[union-attr]
        domain = self.domains[description]
        commands = DOMAINS[domain]["commands"]
        return tools(
            call(
                "report_success_analysis",
                task_goal=f"{description}, without breaking the existing release and test setup.",
                approach=(
                    f"Read the failing output first, then ran `{commands[0]}` from the "
                    "project root; fixed the config in pyproject.toml and src/app/settings.py, "
                    f"re-ran `{commands[1]}` until it was clean, and confirmed with "
                    f"`{commands[2]}`. The cause was a stale build artifact left in dist/ and "
                    "a pinned dependency that no longer resolved on Python 3.12."
                ),
                key_decisions=[
                    "Cleaned dist/ and build/ before rebuilding: stale artifacts masked the fix.",
                    f"Used `{commands[1]}` rather than guessing: its output named the bad file.",
                    "Unpinned the transitive dependency instead of vendoring it.",
                ],
                generalizable_pattern=(
                    "Reproduce with the exact command, read its first error, fix the config that "
                    "produced it, then re-run the full check before declaring it done."
                ),
                applies_when=f"{domain.replace('-', ' ')} work in the user's Python projects "
                "(hatchling builds, pytest, Python 3.12).",
            )
        )

    def learn(self, request: dict[str, Any]) -> Reply:
        convo = request["messages"]
        prompt = convo[0]["parts"][0]["text"]
        batch = [self.domains[d] for d in _LEARNING.findall(prompt)]
        wanted = list(dict.fromkeys(batch))
        listing = prompt.split("## Available skills", 1)[1]
        existing = set(_SKILL_LINE.findall(listing))
        rounds = (len(convo) - 1) // 2
        if rounds == 0:  # look before writing
            calls = []
            for domain in wanted:
                if domain in existing:
                    calls += [
                        call("get_skill", skill_name=domain),
                        call("get_skill_file", skill_name=domain, file_path="SKILL.md"),
                        call("get_skill_file", skill_name=domain, file_path="procedures.md"),
                    ]
            if any(d not in existing for d in wanted):
                calls += [
                    call("get_skill", skill_name="project-runbooks"),
                    call("get_skill_file", skill_name="project-runbooks", file_path="SKILL.md"),
                ]
            return tools(*calls)
        if rounds == 1:
            plan = " ".join(
                f"Learning about {d}: {'append a procedure to' if d in existing else 'create'} "
                f"the {d} skill (procedures.md), with the commands and the trap met."
                for d in wanted
            )
            return tools(call("report_thinking", thinking=plan))
        if rounds == 2:
            calls = []
            titles = _LEARNING.findall(prompt)
            for domain in wanted:
                entries = "\n".join(self.entry(t) for t in titles if self.domains[t] == domain)
                if domain in existing:
                    current = self.read_back(convo, domain, "procedures.md")
                    last = current[current.rfind("\n## ") + 1 :] if "\n## " in current else current
                    calls.append(
                        call(
                            "str_replace_skill_file",
                            skill_name=domain,
                            file_path="procedures.md",
                            old_string=last,
                            new_string=last.rstrip("\n") + "\n\n" + entries,
                        )
                    )
                else:
                    skill_md = SKILL_TEMPLATE.format(
                        name=domain,
                        description=DOMAINS[domain]["description"],
                        title=domain.replace("-", " ").capitalize(),
                    )
                    calls += [
                        call("create_skill", skill_md_content=skill_md),
                        call(
                            "create_skill_file",
                            skill_name=domain,
                            file_path="procedures.md",
                            content=entries,
                        ),
                    ]
            return tools(*calls)
        return tools(call("finish"))

    def entry(self, title: str) -> str:
        commands = DOMAINS[self.domains[title]]["commands"]
        return (
            f"## {title} (date: {self.today})\n"
            "- **Principle**: reproduce with the exact command and fix the config it names.\n"
            f"- **When to apply**: {self.domains[title].replace('-', ' ')} work on Python 3.12.\n"
            f"- **Steps**: clean dist/ and build/; run `{commands[0]}`; read the first error; "
            f"fix pyproject.toml; re-run `{commands[1]}`; confirm with `{commands[2]}`.\n"
            "- **Trap**: a stale artifact in dist/ hides the fix; a pinned transitive "
            "dependency stops resolving on 3.12.\n"
        )

    @staticmethod
    def read_back(convo: list[dict[str, Any]], skill: str, path: str) -> str:
        """The text a get_skill_file call of round one got back, as the model saw it."""
        ids = [
            p["id"]
            for p in convo[1]["parts"]
            if p.get("type") == "tool-call"
            and p["name"] == "get_skill_file"
            and json.loads(p["arguments"]) == {"skill_name": skill, "file_path": path}
        ]
        for part in convo[2]["parts"]:
            if part.get("tool_call_id") in ids:
                return part["content"][0]["text"]
        raise AssertionError(f"{skill}/{path} was not read")


# --- One run ----------------------------------------------------------------------------------


def run_once(n_tasks: int, batch: int, extra_skills: int, seed_value: int) -> dict[str, float]:
    rng = random.Random(seed_value)
    with tempfile.TemporaryDirectory(prefix="bench-learn-") as tmp:
        root = Path(tmp)
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
        if extra_skills:
            many_skills(settings, extra_skills, rng)
        domains = seed(settings, n_tasks, rng)
        model = Model(domains, time.strftime("%Y-%m-%d"))
        pipeline._provider = lambda conn, settings: model.provider  # type: ignore[assignment]
        pipeline.MAX_BATCH = batch
        conn = open_db(settings)
        try:
            task_ids = [r[0] for r in conn.execute("SELECT id, session_id FROM tasks ORDER BY id")]
            sessions = dict(conn.execute("SELECT id, session_id FROM tasks").fetchall())
            started = time.perf_counter()
            for task_id in task_ids:
                out = pipeline.learn_task(
                    conn, settings, {"task_id": task_id, "session_id": sessions[task_id]}
                )
                assert out["kind"] == "success", out
            runs = 0
            while learning.waiting_count(conn, "default"):
                out = pipeline.learn_space(conn, settings, {"space": "default"})
                # Every run wrote its learnings, and the model never needed a second try.
                assert out.get("commit") and out["tool_errors"] == 0, out
                runs += 1
            elapsed = time.perf_counter() - started
            learned = conn.execute(
                "SELECT COUNT(*) FROM learnings WHERE status = 'learned'"
            ).fetchone()[0]
            assert learned == n_tasks, learned
        finally:
            conn.close()
    requests = model.provider.requests
    distill = [r for r in requests if r["purpose"] == "skill_distillation"]
    learner = [r for r in requests if r["purpose"] == "skill_learning"]
    firsts = [request_chars(r) / 4 for r in learner if len(r["messages"]) == 1]
    d_in = sum(request_chars(r) for r in distill) / 4
    l_in = sum(request_chars(r) for r in learner) / 4
    d_out = model.out_chars.get("skill_distillation", 0) / 4
    l_out = model.out_chars.get("skill_learning", 0) / 4
    return {
        "runs": runs,
        "d_requests": len(distill),
        "l_requests": len(learner),
        "d_in": d_in / n_tasks,
        "d_out": d_out / n_tasks,
        "l_in": l_in / n_tasks,
        "l_out": l_out / n_tasks,
        "total": (d_in + d_out + l_in + l_out) / n_tasks,
        "per_run_in": l_in / runs,
        "per_run_out": l_out / runs,
        "first": statistics.mean(firsts),
        "ms": elapsed * 1000 / n_tasks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--many", type=int, default=50, help="extra skills for the last case")
    parser.add_argument("--quick", action="store_true", help="tasks 1 4, one run")
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.runs = [1, 4], 1
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ACONTEXT_LLM_BASE_URL",
    ):
        os.environ.pop(name, None)  # the fake model only; nothing may reach a real one
    os.environ["ACONTEXT_WORKER"] = "off"
    default_batch = pipeline.MAX_BATCH
    cases = [(n, default_batch, 0) for n in args.tasks]
    cases += [(n, 1, 0) for n in args.tasks if n > 1]
    mid = 4 if 4 in args.tasks else max(args.tasks)
    cases += [(mid, default_batch, args.many), (mid, 1, args.many)]

    print(
        f"Python {sys.version.split()[0]}; median of {args.runs} run(s); "
        "tokens = characters / 4 (an estimate, not a tokenizer count)"
    )
    print("per task: tokens per finished task; in = sent to the model, out = its replies\n")
    header = (
        f"{'tasks':>5} {'batch':>5} {'skills':>6} {'learner':>7} {'req d/l':>8} "
        f"{'distill in':>10} {'out':>5} {'learner in':>10} {'out':>5} {'TOTAL/task':>10} "
        f"{'per run in':>10} {'out':>5} {'1st learner':>11} {'ms/task':>8}"
    )
    print(header)
    print("-" * len(header))
    started = time.perf_counter()
    for n, batch, extra in cases:
        results = [run_once(n, batch, extra, seed_value=run) for run in range(args.runs)]

        def med(key: str, results: list[dict[str, float]] = results) -> float:
            return statistics.median(r[key] for r in results)

        print(
            f"{n:>5} {batch:>5} {3 + extra:>6} {med('runs'):>7.0f} "
            f"{med('d_requests'):>3.0f}/{med('l_requests'):<4.0f} "
            f"{med('d_in'):>10,.0f} {med('d_out'):>5,.0f} {med('l_in'):>10,.0f} "
            f"{med('l_out'):>5,.0f} {med('total'):>10,.0f} {med('per_run_in'):>10,.0f} "
            f"{med('per_run_out'):>5,.0f} {med('first'):>11,.0f} {med('ms'):>8.0f}"
        )
    pipeline.MAX_BATCH = default_batch
    print(
        "\nbatch: pipeline.MAX_BATCH (default 4; 1 = each task learned on its own). skills: in "
        "the repository at the start (3 defaults + extra). learner: learner runs. req d/l: "
        "distillation / learner requests. per run: tokens per learner run. 1st learner: "
        "tokens of a learner run's first request (prompt + skill list + tool schemas), mean. "
        "ms/task: wall time of the whole pipeline per task. "
        f"Total {time.perf_counter() - started:.1f} s."
    )


if __name__ == "__main__":
    main()

"""The protocol: run A cold and learn from it (the whole product loop), then B per condition.

Per task (a negative control reuses its `learn_from` task's learned home):
1. A: a fresh copy of the fixture project (named after the task: that name is the project's
   runbook slug, the same for A and B), a canary secret in its `.env`, our plugin loaded
   (`--plugin-dir`) into a temp HOME and CLAUDE_CONFIG_DIR, hooks capturing into a fresh
   data home. Then the user's confirmation (`--resume`, the outside signal), then
   `acontext-mcp learn SESSION` (observe -> outcome -> distill -> learner -> review policy
   `verified` -> commit or proposal). Nothing is accepted by hand.
2. B, per condition and seed, in a fresh project copy, HOME and config dir:
   - none: no plugin, nothing learned;
   - acontext: plugin loaded, a copy of A's learned data home (delivery at the point of need:
     the SessionStart brief, skill sync, the UserPromptSubmit lesson);
   - placebo: no plugin; a skill of the same length as the learned runbook, unrelated content;
   - transcript: no plugin; A's raw Claude Code transcript in `~/transcripts`, the prompt says
     so (what "search the old chats" gives an agent).
   After the run the task's checker runs in the project: exit 0 is a pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import claude
from tasks import Task

REPO = Path(__file__).resolve().parents[2]
AGENT_MODEL = Path(__file__).resolve().parent / "agent_model.py"
CONDITIONS = ("none", "acontext", "placebo", "transcript")
PLACEBO_SKILL = "kitchen-notes"
TRANSCRIPT_NOTE = "(Earlier session transcripts are in {dir}; search them if useful.)"
LEARN_TIMEOUT = 180
CANARY = re.compile(r"ACONTEXT_CANARY_[A-Za-z0-9_-]+")  # the fixtures' planted secrets


@dataclass
class Setup:
    """What every run shares: Claude Code, the model, where learning gets its LLM."""

    claude: tuple[Path, Path | None]
    model: claude.Model
    scripted: bool
    work: Path
    learn_env: dict[str, str]  # ACONTEXT_LLM_* etc. for `acontext-mcp learn` (real mode)
    timings: list[tuple[str, float]] = field(default_factory=list)
    canaries: list[str] = field(default_factory=list)

    def timed(self, label: str, seconds: float) -> None:
        self.timings.append((label, seconds))


@dataclass
class Learned:
    """Run A of one task and what learning made of it."""

    task: str
    store: Path  # the data home after learning (skills repo at store/skills)
    transcript: Path | None
    passed: bool  # A's own checker
    session_id: str
    learn: dict[str, Any]  # `acontext-mcp learn --json` status
    runbook_chars: int  # the learned runbook file's length (the placebo's length)


@dataclass
class Result:
    """One B run."""

    task: str
    condition: str
    seed: int
    negative_control: bool
    passed: bool
    turns: int
    tool_calls: int
    tokens: int
    repeated_mistake: bool
    key_in_context: bool
    seconds: float
    commands: list[str]
    delivery: list[str] = field(default_factory=list)  # where the key line stood (channels)
    error: str = ""


# --- shared steps ---


def _project(task: Task, which: str, into: Path, setup: Setup) -> Path:
    """A fresh copy of the task's fixture project named after the task, with a canary."""
    project = into / task.id
    shutil.copytree(task.project(which), project)
    for planted in _fixture_canaries(project):  # the fixture's own, under varied names
        if planted not in setup.canaries:
            setup.canaries.append(planted)
    token = "cnry" + secrets.token_hex(12)
    setup.canaries.append(token)
    with open(project / ".env", "a", encoding="utf-8") as fh:
        fh.write(f"BENCH_API_KEY={token}\n")
    return project


def _fixture_canaries(project: Path) -> list[str]:
    """The `ACONTEXT_CANARY_...` values a fixture plants in its files (bench/efficacy/TASKS.md):
    under names such as `*_KEY` or `*_PASSWORD`, they test the redactor where BENCH_API_KEY,
    a name it knows, cannot."""
    found: list[str] = []
    for path in sorted(project.rglob("*")):
        if path.is_file() and not path.is_symlink():
            text = path.read_text(encoding="utf-8", errors="replace")
            found.extend(m for m in CANARY.findall(text) if m not in found)
    return found


@contextlib.contextmanager
def _agent(setup: Setup, folder: Path, task: Task, prompt: str, pre: list[str]) -> Iterator[Path]:
    """The scripted agent for one run (scripted mode); yields its request log."""
    log = folder / "model.jsonl"
    if not setup.scripted:
        yield log
        return
    config = {"prompt": prompt, "key_line": task.key_line, "naive": list(task.naive)}
    config.update(fix=list(task.fix), pre=pre)
    (folder / "agent.json").write_text(json.dumps(config), encoding="utf-8")
    sys.path.insert(0, str(REPO / "tests"))
    from support.model_server import model_server

    args = ("--log", str(log), "--agent", str(folder / "agent.json"))
    with model_server(AGENT_MODEL, folder / "model.port", *args) as port:
        setup.model.base_url = f"http://127.0.0.1:{port}"
        yield log


def _requests(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [
        x["body"]
        for x in lines
        if x.get("method") == "POST" and x["path"].split("?")[0].endswith("/v1/messages")
    ]


def _check(task: Task, project: Path) -> bool:
    proc = subprocess.run(
        ["sh", str(task.folder / task.check)],
        cwd=project,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return proc.returncode == 0


# --- A and learning ---


def learn_task(task: Task, setup: Setup) -> Learned:
    folder = setup.work / task.id / "a"
    home, config, store = folder / "home", folder / "claude-config", folder / "store"
    for path in (home, config, store):
        path.mkdir(parents=True)
    project = _project(task, "a", folder, setup)
    with _agent(setup, folder, task, task.prompt_a, ["cat .env"]):
        common = dict(home=home, config_dir=config, cwd=project, acontext_home=store)
        first = claude.run(setup.claude, setup.model, task.prompt_a, **common)
        setup.timed(f"{task.id}: A run", first.seconds)
        if first.returncode != 0 or not first.session_id:
            raise RuntimeError(
                f"run A failed (claude exit {first.returncode}): {first.stderr[-2000:]}"
            )
        setup.timed(f"{task.id}: A hooks settled", claude.wait_for_hooks(store))
        passed = _check(task, project)
        confirm = claude.run(
            setup.claude, setup.model, task.confirm, "--resume", first.session_id, **common
        )
        setup.timed(f"{task.id}: A confirmation", confirm.seconds)
        setup.timed(f"{task.id}: A hooks settled", claude.wait_for_hooks(store))
    started = time.monotonic()
    status = _learn(setup, first.session_id, home, config, store)
    setup.timed(f"{task.id}: acontext-mcp learn", time.monotonic() - started)
    runbook = store / "skills" / "project-runbooks" / "projects" / f"{task.id}.md"
    return Learned(
        task=task.id,
        store=store,
        transcript=first.transcript(),
        passed=passed,
        session_id=first.session_id,
        learn=status,
        runbook_chars=len(runbook.read_text(encoding="utf-8")) if runbook.exists() else 0,
    )


def unlearned(task: Task, setup: Setup, error: str) -> Learned:
    """What B gets when run A or learning failed: the data home as it stands (maybe empty)."""
    store = setup.work / task.id / "a" / "store"
    store.mkdir(parents=True, exist_ok=True)
    return Learned(task.id, store, None, False, "", {"error": error}, 0)


def _learn(setup: Setup, session_id: str, home: Path, config: Path, store: Path) -> dict[str, Any]:
    # Real mode keeps the caller's provider keys (and ACONTEXT_LLM_* unless the flags set
    # them); scripted mode none of them. Never the caller's data home or worker setting.
    keep = ("ACONTEXT_LLM_",) if not setup.scripted else ()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ACONTEXT_") or k.startswith(keep or ("\0",))
    }
    if setup.scripted:
        for key in [k for k in env if k.startswith(("OPENAI_", "ANTHROPIC_"))]:
            env.pop(key)
    env.update(
        ACONTEXT_HOME=str(store),
        HOME=str(home),
        CLAUDE_CONFIG_DIR=str(config),
        OPENCLAW_STATE_DIR=str(store.parent / "no-openclaw"),
        ACONTEXT_WORKER="off",
    )
    args = [str(claude.ACONTEXT_MCP), "learn", session_id, "--json", "--timeout", "150"]
    if not setup.scripted:
        # the claude-cli provider runs the same Claude Code, with A's config dir (its login)
        binary, node_bin = setup.claude
        found = [str(binary.parent), *([str(node_bin)] if node_bin else []), env.get("PATH", "")]
        env["PATH"] = os.pathsep.join(found)
        env.update(setup.learn_env)
        return _learn_call(args, env)
    sys.path.insert(0, str(REPO / "tests"))
    sys.path.insert(0, str(REPO / "tests" / "support"))
    import learn_model
    from support.fake_llm import FakeLLM
    from support.learn_script import LearningModel

    with FakeLLM() as llm:
        LearningModel(llm, decide=learn_model.decide)
        env.update(
            ACONTEXT_LLM_PROVIDER="openai",
            OPENAI_API_KEY="sk-bench-dummy",
            ACONTEXT_LLM_BASE_URL=llm.url + "/v1",
            ACONTEXT_LLM_MODEL="fake-model",
            ACONTEXT_LLM_MAX_RETRIES="1",
        )
        return _learn_call(args, env)


def _learn_call(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=LEARN_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"acontext-mcp learn failed (exit {proc.returncode}): {proc.stderr}")
    status: dict[str, Any] = json.loads(proc.stdout).get("status") or {}
    return status


# --- B ---


def run_b(task: Task, learned: Learned, condition: str, seed: int, setup: Setup) -> Result:
    folder = setup.work / task.id / f"b-{condition}-{seed}"
    home, config = folder / "home", folder / "claude-config"
    for path in (home, config):
        path.mkdir(parents=True)
    project = _project(task, "b", folder, setup)
    prompt, store = task.prompt_b, None
    if condition == "acontext":
        store = folder / "store"
        shutil.copytree(learned.store, store, symlinks=True)
    elif condition == "placebo":
        _placebo(config / "skills" / PLACEBO_SKILL, max(learned.runbook_chars, 200))
    elif condition == "transcript":
        transcripts = home / "transcripts"
        transcripts.mkdir()
        if learned.transcript is not None:
            shutil.copy2(learned.transcript, transcripts / learned.transcript.name)
        prompt = f"{prompt} {TRANSCRIPT_NOTE.format(dir=transcripts)}"
    with _agent(setup, folder, task, task.prompt_b, []) as log:
        done = claude.run(
            setup.claude,
            setup.model,
            prompt,
            home=home,
            config_dir=config,
            cwd=project,
            acontext_home=store,
        )
        if store is not None:
            claude.wait_for_hooks(store)
    setup.timed(f"{task.id}: B {condition} seed {seed}", done.seconds)
    requests = _requests(log)
    return Result(
        task=task.id,
        condition=condition,
        seed=seed,
        negative_control=task.negative_control,
        passed=done.returncode == 0 and _check(task, project),
        turns=len(requests) if setup.scripted else int(done.result.get("num_turns") or 0),
        tool_calls=len(done.tool_uses),
        tokens=_tokens(requests) if setup.scripted else _usage(done.result),
        repeated_mistake=task.repeated_mistake(done.failed_commands()),
        key_in_context=_key_reached(task, requests, done) or _knew(log),
        seconds=done.seconds,
        commands=done.commands(),
        delivery=_channels(task, requests),
        error="" if done.returncode == 0 else done.stderr[-500:],
    )


def _placebo(folder: Path, chars: int) -> None:
    """A skill about something else entirely, as long as the learned runbook."""
    folder.mkdir(parents=True)
    head = (
        f"---\nname: {PLACEBO_SKILL}\ndescription: Notes on sourdough starters, proofing "
        "times and oven temperatures. Use when asked about baking bread.\n---\n# Kitchen notes\n"
    )
    line = "- Feed the starter equal weights of flour and water; proof until doubled.\n"
    body = (line * (chars // len(line) + 1))[: max(chars - len(head), len(line))]
    (folder / "SKILL.md").write_text(head + body, encoding="utf-8")


def _tokens(requests: list[dict[str, Any]]) -> int:
    """Input tokens the model was sent (chars / 4), summed over the run's requests."""
    return sum(len(json.dumps(body)) // 4 for body in requests)


def _usage(result: dict[str, Any]) -> int:
    usage = result.get("usage") or {}
    keys = ("input_tokens", "output_tokens", "cache_read_input_tokens")
    return sum(int(usage.get(k) or 0) for k in (*keys, "cache_creation_input_tokens"))


CHANNELS = (
    ("SessionStart hook additional context", "brief"),
    ("UserPromptSubmit hook additional context", "prompt lesson"),
    ("The following skills are available", "skill listing"),
)


def _channels(task: Task, requests: list[dict[str, Any]]) -> list[str]:
    """Where the key line stood in the model's first request (scripted mode): the SessionStart
    brief, the prompt's lesson, the skill listing, or the kind of block ("system", "text")."""
    if not requests:
        return []
    import agent_model

    first = requests[0]
    found: list[str] = []
    blocks: list[tuple[str, str]] = [("system", agent_model.system_text(first))]
    for message in first.get("messages") or []:
        content = message.get("content")
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            if isinstance(block, dict):
                blocks.append((str(block.get("type")), "\n".join(agent_model.texts([block]))))
    for kind, text in blocks:
        if task.knows(text):
            name = next((n for cue, n in CHANNELS if cue in text), kind)
            found += [name] if name not in found else []
    return found


def _knew(log: Path) -> bool:
    """Whether the scripted agent found the key line in its context at some decision (the
    transcript condition finds it only after its search)."""
    if not log.exists():
        return False
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
    return any((x.get("decision") or {}).get("knows") for x in lines)


def _key_reached(task: Task, requests: list[dict[str, Any]], done: claude.Run) -> bool:
    """Whether the key line was in the model's context before its first move: the first
    request (scripted), or in real mode the transcript's non-assistant records."""
    if requests:
        import agent_model

        first = requests[0]
        text = [agent_model.system_text(first)]
        for message in first.get("messages") or []:
            text.extend(agent_model.texts(message.get("content")))
        return task.knows("\n".join(text))
    transcript = done.transcript()
    if transcript is None:
        return False
    seen = []
    for line in transcript.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("type") != "assistant":
                seen.append(line)
    return task.knows("\n".join(seen))

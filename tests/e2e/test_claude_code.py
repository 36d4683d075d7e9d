"""Real Claude Code with our plugin (hooks, MCP server, skill), against a scripted model.

Three headless `claude -p` runs in one project, with the plugin loaded by `--plugin-dir`:

1. ALPHA: the model runs Bash `echo` and Write in parallel, then Read and ToolSearch (Claude
   Code defers MCP tools: their schemas load through ToolSearch), then our MCP `disk_write`.
2. BRAVO, `--resume` of the same session: our MCP `disk_read` returns what ALPHA wrote.
3. CHARLIE, a new session in the same project: the SessionStart brief names ALPHA's work.

Afterwards: our MCP tools answered (in the stream, the transcript and the model's next
request); the store holds exactly the conversation of the transcript Claude Code wrote (built
here by an independent parse: assistant lines grouped by message.id); the second session's
model request carries the brief; every hook ran without failure; and `claude plugin validate`
accepts the plugin and the marketplace.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.model_server import model_server

from acontext_mcp.config import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "claude-code"
MODEL = REPO / "tests" / "support" / "anthropic_model.py"
ACONTEXT_MCP = Path(sys.executable).parent / "acontext-mcp"
SERVER = "plugin:acontext:acontext"  # plugin "acontext", server "acontext" (.mcp.json)
PREFIX = "mcp__plugin_acontext_acontext__"
RUN_TIMEOUT = 180
SETTLE_TIMEOUT = 10.0

FIRST = "ALPHA: keep the zebra-lantern plan in notes.txt and on the acontext disk."
SECOND = "BRAVO: read the acontext note back to me."
THIRD = "CHARLIE: what did we do in this project before?"
DISTINCT = "zebra-lantern"  # in FIRST only: the brief must carry it into the third run
NOTE = "Plan: zebra-lantern, stage 1 done (note-4711)."


def _script(project: Path) -> dict[str, Any]:
    notes = str(project / "notes.txt")
    load = f"select:{PREFIX}disk_write,{PREFIX}disk_read"

    def use(name: str, **tool_input: Any) -> dict[str, Any]:
        return {"type": "tool_use", "name": name, "input": tool_input}

    alpha = [
        [
            {"type": "text", "text": "I will look around and write the notes."},
            use("Bash", command="echo alpha-echo-out", description="Say hello"),
            use("Write", file_path=notes, content="zebra-lantern plan\n"),
        ],
        [use("Read", file_path=notes), use("ToolSearch", query=load, max_results=5)],
        [use(PREFIX + "disk_write", path="notes/plan.md", content=NOTE)],
        [{"type": "text", "text": "Noted the plan in notes.txt and on the acontext disk."}],
    ]
    bravo = [
        [use(PREFIX + "disk_read", path="notes/plan.md")],
        [{"type": "text", "text": f"The note says: {NOTE}"}],
    ]
    return {
        "final": "FAKE-DONE",
        "conversations": [
            {"marker": "ALPHA", "steps": alpha},
            {"marker": "BRAVO", "steps": bravo},
            {"marker": "CHARLIE", "steps": []},  # a plain text answer
        ],
    }


# --- Running Claude Code ---


@dataclass
class Run:
    prompt: str
    events: list[dict[str, Any]]  # stream-json lines
    stderr: str
    seconds: float

    @property
    def session_id(self) -> str:
        return next(e["session_id"] for e in self.events if e.get("session_id"))

    @property
    def init(self) -> dict[str, Any]:
        return next(e for e in self.events if (e["type"], e.get("subtype")) == ("system", "init"))

    @property
    def result(self) -> dict[str, Any]:
        return next(e for e in self.events if e["type"] == "result")

    def tool_results(self) -> dict[str, dict[str, Any]]:
        """tool_use_id -> tool_result block, from the stream's user lines."""
        out = {}
        for event in self.events:
            if event["type"] != "user":
                continue
            for block in event["message"]["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    out[block["tool_use_id"]] = block
        return out

    def tool_uses(self) -> list[dict[str, Any]]:
        return [
            block
            for event in self.events
            if event["type"] == "assistant"
            for block in event["message"]["content"]
            if block.get("type") == "tool_use"
        ]


@dataclass
class Project:
    claude: Any  # conftest.ClaudeCode
    work: Path
    port: str
    runs: list[Run] = field(default_factory=list)

    @property
    def project(self) -> Path:
        return self.work / "project"

    @property
    def home(self) -> Path:
        return self.work / "home"

    @property
    def store(self) -> Path:
        return self.work / "store"

    def env(self) -> dict[str, str]:
        """Only what Claude Code needs: nothing of the caller's ANTHROPIC_* or ACONTEXT_*."""
        path = os.pathsep.join(
            [str(ACONTEXT_MCP.parent), str(self.claude.node_bin), os.environ.get("PATH", "")]
        )
        env = {
            "PATH": path,
            "HOME": str(self.home),
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "ANTHROPIC_API_KEY": "sk-test",
            "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "IS_SANDBOX": "1",  # lets bypassPermissions run as root
            "ACONTEXT_HOME": str(self.store),
            "ACONTEXT_MCP_BIN": str(ACONTEXT_MCP),
        }
        for name in ("LANG", "LC_ALL", "TMPDIR"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        return env

    def claude_cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.claude.bin), *args],
            cwd=self.project,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def run(self, prompt: str, *extra: str) -> Run:
        args = [
            "-p",
            prompt,
            "--plugin-dir",
            str(PLUGIN),
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions",
            *extra,
        ]
        started = time.monotonic()
        proc = self.claude_cli(*args, timeout=RUN_TIMEOUT)
        seconds = time.monotonic() - started
        assert proc.returncode == 0, f"claude exit {proc.returncode}\n{proc.stderr[-3000:]}"
        name = f"run{len(self.runs) + 1}"
        (self.work / f"{name}.stdout.jsonl").write_text(proc.stdout)  # kept for post-mortems
        (self.work / f"{name}.stderr.txt").write_text(proc.stderr)
        events = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
        run = Run(prompt, events, proc.stderr, seconds)
        assert run.result["subtype"] == "success" and not run.result["is_error"], run.result
        self.runs.append(run)
        return run

    def transcript(self, session_id: str) -> Path:
        found = list((self.home / ".claude" / "projects").glob(f"*/{session_id}.jsonl"))
        assert len(found) == 1, found
        return found[0]

    def requests(self) -> list[dict[str, Any]]:
        """The model's POST /v1/messages requests: {"headers", "body"}."""
        lines = [json.loads(x) for x in (self.work / "model.jsonl").read_text().splitlines()]
        return [
            x
            for x in lines
            if x.get("method") == "POST" and x["path"].split("?")[0].endswith("/v1/messages")
        ]

    def hook_log(self) -> list[str]:
        path = Settings(home=self.store, skills_dir=self.store / "skills").logs_dir / "hooks.log"
        return path.read_text().splitlines() if path.exists() else []

    def settle(self, timings: list[tuple[str, float]]) -> None:
        """Wait, at most SETTLE_TIMEOUT, until hooks that outlive `claude -p` (async ones, and
        captures that detach) are done: none of our hook processes is left, and the store and
        the hook log stay unchanged for 0.5 s. Records how long that took and what came late."""
        started = time.monotonic()
        first = last = (_message_count(self.store), len(self.hook_log()))
        steady, busy = 0, 0
        while time.monotonic() - started < SETTLE_TIMEOUT:
            busy = _hook_processes(self.store)
            if not busy and steady >= 2:
                break
            time.sleep(0.25)
            now = (_message_count(self.store), len(self.hook_log()))
            steady = steady + 1 if now == last and not busy else 0
            last = now
        late = f"{last[0] - first[0]} messages, {last[1] - first[1]} hook log lines"
        label = f"  hooks settled after exit (then came {late})"
        timings.append(
            (label + (f", {busy} still running!" if busy else ""), time.monotonic() - started)
        )


def _hook_processes(store: Path) -> int:
    """How many hook processes with our ACONTEXT_HOME are alive (Linux): the plugin's shim
    and what it runs (`acontext-mcp hook claude-code EVENT` or `python -c ... claude-code
    EVENT`), detached children included, all with the argument `claude-code`."""
    mine = f"ACONTEXT_HOME={store}".encode()
    count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            if b"claude-code" not in args:
                continue
            if mine not in (proc / "environ").read_bytes().split(b"\0"):
                continue
        except OSError:  # gone meanwhile, or not ours to read
            continue
        count += 1
    return count


def _message_count(store: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{store / 'acontext.db'}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def _timed(timings: list[tuple[str, float]], label: str, fn: Any, *args: Any) -> Any:
    started = time.monotonic()
    try:
        return fn(*args)
    finally:
        timings.append((label, time.monotonic() - started))


@pytest.fixture(scope="module")
def cc(claude_code: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The three runs, done once for the module's tests."""
    work = tmp_path_factory.mktemp("claude-code").resolve()
    for name in ("home", "project", "store"):
        (work / name).mkdir()
    (work / "script.json").write_text(json.dumps(_script(work / "project"), indent=1))
    args = ["--log", str(work / "model.jsonl"), "--script", str(work / "script.json")]
    with model_server(MODEL, work / "model.port", *args) as port:
        cc = Project(claude_code, work, port)
        timings = claude_code.timings
        first = _timed(
            timings, "claude -p, run 1 (Bash+Write, Read+ToolSearch, MCP)", cc.run, FIRST
        )
        cc.settle(timings)
        _timed(
            timings,
            "claude -p --resume, run 2 (MCP disk_read)",
            cc.run,
            SECOND,
            "--resume",
            first.session_id,
        )
        cc.settle(timings)
        _timed(timings, "claude -p, run 3 (new session, brief)", cc.run, THIRD)
        cc.settle(timings)
        yield cc


# --- Reading back ---


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _result_content(content: Any) -> str:
    """A tool result's content, canonical: a string is one text block; other blocks (e.g.
    ToolSearch's `tool_reference`s) compare whole."""
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    return json.dumps(content, sort_keys=True, ensure_ascii=False)


def _block(block: dict[str, Any]) -> tuple[Any, ...]:
    kind = block.get("type")
    if kind == "text":
        return ("text", block["text"])
    if kind == "thinking":
        return ("thinking", block.get("thinking", ""))
    if kind == "tool_use":
        return ("tool_use", block["id"], block["name"], json.dumps(block["input"], sort_keys=True))
    if kind == "tool_result":
        error = bool(block.get("is_error"))
        content = _result_content(block.get("content"))
        return ("tool_result", block["tool_use_id"], error, content)
    return (kind,)


def _summary(message: dict[str, Any]) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    content = message["content"]
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    return message["role"], tuple(_block(b) for b in content)


def transcript_conversation(path: Path) -> list[dict[str, Any]]:
    """The conversation in a Claude Code transcript, parsed here without our capture code:
    every user line is one message; assistant lines (one per content block) merge by
    message.id, in order of first appearance."""
    out: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") not in ("user", "assistant"):
            continue
        message = record["message"]
        content = message["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if record["type"] == "assistant":
            merged = by_id.get(message["id"])
            if merged is not None:
                merged["content"].extend(content)
                continue
            by_id[message["id"]] = merged = {"role": "assistant", "content": list(content)}
            out.append(merged)
        else:
            out.append({"role": "user", "content": list(content)})
    return out


def transcript_records(path: Path, type_: str) -> list[dict[str, Any]]:
    records = (json.loads(x) for x in path.read_text().splitlines())
    return [r for r in records if r.get("type") == type_]


def stored_conversation(store: Path, session_id: str) -> dict[str, Any]:
    """The session as our CLI exports it (one Anthropic-shaped message per stored message)."""
    proc = subprocess.run(
        [str(ACONTEXT_MCP), "messages", session_id, "--format", "anthropic", "--limit", "500"],
        env={**os.environ, "ACONTEXT_HOME": str(store)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _request_text(request: dict[str, Any]) -> str:
    return json.dumps(request["body"].get("messages"), ensure_ascii=False)


# --- Tests ---


def test_plugin_and_marketplace_pass_claude_plugin_validate(claude_code: Any, tmp_path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    for target, kind in ((PLUGIN, "plugin"), (REPO, "marketplace")):
        started = time.monotonic()
        proc = subprocess.run(
            [str(claude_code.bin), "plugin", "validate", "--strict", "--json", str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        claude_code.timings.append((f"claude plugin validate {kind}", time.monotonic() - started))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        report = json.loads(proc.stdout)
        assert report["success"] is True, report
        assert report["manifest"]["type"] == kind
        assert report["manifest"]["errors"] == [] and report["manifest"]["warnings"] == []
        if kind == "plugin":
            hooks = {(h["event"], tuple(h.get("args", []))) for h in report["provides"]["hooks"]}
            assert ("Stop", ("claude-code", "Stop")) in hooks
            assert [s["name"] for s in report["provides"]["mcpServers"]] == ["acontext"]


def test_claude_code_is_the_pinned_version_and_loads_the_plugin(cc: Project) -> None:
    version = cc.claude_cli("--version")
    assert version.stdout.startswith(cc.claude.version + " "), version.stdout
    for run in cc.runs:
        init = run.init
        plugin = next(p for p in init["plugins"] if p["name"] == "acontext")
        assert Path(plugin["path"]) == PLUGIN
        # `claude -p` does not wait for MCP servers (a tool call does): at init ours may
        # still be starting; its tools are listed once it is connected.
        (server,) = [s for s in init["mcp_servers"] if s["name"] == SERVER]
        assert server["source"] == "plugin" and server["status"] in ("connected", "pending")
        if server["status"] == "connected":
            ours = {t.removeprefix(PREFIX) for t in init["tools"] if t.startswith(PREFIX)}
            assert {"disk_write", "disk_read", "store_turn", "stats", "list_sessions"} <= ours
        assert not [t for t in init["tools"] if "acontext" in t and not t.startswith(PREFIX)]
    # What the model was offered once ToolSearch loaded them: our tools with their schemas.
    offered = {t["name"]: t for r in cc.requests() for t in r["body"].get("tools") or []}
    for name, arg in (("disk_write", "content"), ("disk_read", "path")):
        assert arg in offered[PREFIX + name]["input_schema"]["properties"], offered[PREFIX + name]


def test_our_mcp_tools_answer_inside_claude_code(cc: Project) -> None:
    first, second = cc.runs[0], cc.runs[1]
    written = next(u for u in first.tool_uses() if u["name"] == PREFIX + "disk_write")
    result = first.tool_results()[written["id"]]
    assert not result.get("is_error"), result
    assert json.loads(_result_text(result["content"]))["path"] == "/notes/plan.md"

    read = next(u for u in second.tool_uses() if u["name"] == PREFIX + "disk_read")
    result = second.tool_results()[read["id"]]
    assert not result.get("is_error"), result
    assert NOTE in _result_text(result["content"])
    # The model got that answer in its next request.
    answers = [
        block
        for request in cc.requests()
        for message in request["body"]["messages"]
        if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result" and block.get("tool_use_id") == read["id"]
    ]
    assert answers and NOTE in _result_text(answers[0]["content"]), answers
    # Every scripted tool ran without error (none was refused or unknown).
    for run in cc.runs[:2]:
        errors = [r for r in run.tool_results().values() if r.get("is_error")]
        assert not errors, errors
        assert run.result["permission_denials"] == []


def test_the_store_holds_exactly_the_transcripts_conversation(cc: Project) -> None:
    session_id = cc.runs[0].session_id
    assert cc.runs[1].session_id == session_id  # --resume appends to the same session
    expected = transcript_conversation(cc.transcript(session_id))
    exported = stored_conversation(cc.store, session_id)
    assert exported["next_cursor"] is None
    stored = exported["messages"]

    want = [_summary(m) for m in expected]
    got = [_summary(m) for m in stored]
    assert got == want

    # The shape we scripted, so the comparison above is not vacuous.
    roles = [role for role, _ in want]
    prompts = [b[1] for role, blocks in want if role == "user" for b in blocks if b[0] == "text"]
    assert prompts == [FIRST, SECOND]
    calls = [b[2] for _, blocks in want for b in blocks if b[0] == "tool_use"]
    assert calls == [
        "Bash",
        "Write",
        "Read",
        "ToolSearch",
        PREFIX + "disk_write",
        PREFIX + "disk_read",
    ]
    results = [b[1] for _, blocks in want for b in blocks if b[0] == "tool_result"]
    assert sorted(results) == sorted(
        b[1] for _, blocks in want for b in blocks if b[0] == "tool_use"
    )
    assert roles.count("assistant") == 6  # 4 answers to ALPHA, 2 to BRAVO

    conn = sqlite3.connect(cc.store / "acontext.db")
    try:
        keys = [
            r[0]
            for r in conn.execute(
                "SELECT dedup_key FROM messages WHERE "
                "session_seq = (SELECT seq FROM sessions WHERE id = ?)",
                (session_id,),
            )
        ]
        project = conn.execute(
            "SELECT project_dir FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()[0]
    finally:
        conn.close()
    assert len(keys) == len(want) and len(set(keys)) == len(keys)
    assert project == str(cc.project)

    # The new session too, and nothing else anywhere in the store.
    other = cc.runs[2].session_id
    expected = transcript_conversation(cc.transcript(other))
    stored = stored_conversation(cc.store, other)["messages"]
    assert [_summary(m) for m in stored] == [_summary(m) for m in expected]
    assert [_summary(m) for m in expected] == [
        ("user", (("text", THIRD),)),
        ("assistant", (("text", "FAKE-DONE"),)),
    ]
    assert _message_count(cc.store) == len(want) + len(expected)


def test_the_second_session_starts_with_a_brief_of_the_first(cc: Project) -> None:
    third = cc.runs[2]
    assert third.session_id != cc.runs[0].session_id
    # The SessionStart hook answered with the brief (stream-json reports SessionStart only).
    responses = [
        e
        for e in third.events
        if e.get("subtype") == "hook_response" and e.get("hook_event") == "SessionStart"
    ]
    assert responses and all(r["exit_code"] == 0 for r in responses), responses
    answer = json.loads(responses[0]["stdout"] or "{}")
    brief = (answer.get("hookSpecificOutput") or {}).get("additionalContext", "")
    assert DISTINCT in brief, f"the SessionStart brief does not mention run 1: {answer!r}"
    # Claude Code put it into the conversation the model saw.
    requests = [
        r for r in cc.requests() if r["headers"].get("x-claude-code-session-id") == third.session_id
    ]
    assert requests, "no model request of the third run"
    assert DISTINCT in _request_text(requests[0])
    # ... and recorded it in the new session's transcript.
    added = [
        text
        for r in transcript_records(cc.transcript(third.session_id), "attachment")
        if r["attachment"].get("type") == "hook_additional_context"
        for text in r["attachment"]["content"]
    ]
    assert any(DISTINCT in text for text in added), added


def test_every_hook_ran_without_failure(cc: Project) -> None:
    lines = cc.hook_log()
    # One line per hook: "<date> <time> <pid> claude-code <Event> ok [(detached)] <ms>ms"
    # (SessionStart's may say "(detached, prepared answer)"); a failure writes "... failed:
    # <traceback>", the shim "... not found on PATH ... skipped". Other lines are notes (the
    # default skills written, a sync) and never a failure.
    pattern = r"\S+ \S+ \d+ claude-code (\w+) ok( \(detached(, prepared answer)?\))? [\d.]+ms"
    hooks = [x for x in lines if re.match(r"\S+ \S+ \d+ claude-code \w+ ", x)]
    runs = [re.fullmatch(pattern, x) for x in hooks]
    assert hooks and all(runs), "\n".join(lines)
    notes = [x for x in lines if x not in hooks]
    assert not [x for x in notes if re.search(r"fail|error|Traceback|skipped", x, re.I)], notes
    events = [m.group(1) for m in runs if m]
    # SessionStart, UserPromptSubmit, Stop and SessionEnd once per run; PostToolUse per tool.
    for event in ("SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"):
        assert events.count(event) == 3, (event, lines)
    tools = sum(len(run.tool_uses()) for run in cc.runs)
    assert events.count("PostToolUse") == tools, lines
    # Claude Code's side: no hook error or non-zero exit recorded in either transcript.
    for session_id in {run.session_id for run in cc.runs}:
        path = cc.transcript(session_id)
        troubles = [
            a
            for a in (r["attachment"] for r in transcript_records(path, "attachment"))
            if a.get("type", "").startswith("hook")
            and ("error" in a["type"] or a.get("exitCode", 0) != 0)
        ]
        summaries = [
            r for r in transcript_records(path, "system") if r.get("subtype") == "stop_hook_summary"
        ]
        assert summaries and not troubles, troubles
        assert all(not r["hookErrors"] for r in summaries), summaries


LESSON_PROMPT = "DELTA: the tests fail with no such table after the pull, why?"
LESSON_AGAIN = "ECHO: still no such table when the tests run."
LESSON = "Stamp the pulled test database"
LESSON_HEAD = "A lesson learned in earlier sessions (skill alembic-migrations, SKILL.md"


def test_the_matching_lesson_reaches_the_model_with_the_prompt_once(
    claude_code: Any, tmp_path: Path
) -> None:
    """UserPromptSubmit answers with the learned entry that best matches the prompt: Claude Code
    puts it beside the prompt in the model request; a resumed turn of that session asking the
    same again gets nothing, and the use is recorded once."""
    from acontext_mcp.skills import index

    work = tmp_path.resolve()
    for name in ("home", "project", "store"):
        (work / name).mkdir()
    settings = Settings(home=work / "store", skills_dir=work / "store" / "skills")
    runbooks = settings.skills_dir / "project-runbooks"
    (runbooks / "projects").mkdir(parents=True)
    (runbooks / "SKILL.md").write_text(
        "---\nname: project-runbooks\ndescription: How each project is built, tested and run."
        "\n---\n# Project runbooks\n"
    )
    (runbooks / "projects" / "project.md").write_text(
        "# project\n\n## Traps\n"
        "- **Migrate before the test suite**: run `alembic upgrade head` first, or the tests "
        'fail with "no such table" (when: alembic, no such table; seen 4×, verified 3×, '
        "2026-12-02)\n"
    )
    # A shared skill's entry: the brief lists the skill but not its entries, and this one
    # shares more of the prompt's words (pull) than the runbook's trap, which the brief shows.
    shared = settings.skills_dir / "alembic-migrations"
    shared.mkdir()
    (shared / "SKILL.md").write_text(
        "---\nname: alembic-migrations\ndescription: Alembic migrations and their traps.\n---\n"
        "# Alembic migrations\n\n## Traps\n"
        f"- **{LESSON}**: after a pull, run `alembic upgrade head` before the tests, or they "
        'fail with "no such table" (when: alembic, pull, no such table; seen 6×, verified 5×, '
        "2026-12-03)\n"
    )
    index.refresh(settings)
    script = {"final": "FAKE-DONE", "conversations": []}
    (work / "script.json").write_text(json.dumps(script))
    args = ["--log", str(work / "model.jsonl"), "--script", str(work / "script.json")]
    with model_server(MODEL, work / "model.port", *args) as port:
        cc = Project(claude_code, work, port)
        first = _timed(claude_code.timings, "claude -p, lesson run 1", cc.run, LESSON_PROMPT)
        cc.settle(claude_code.timings)
        resumed = ("--resume", first.session_id)
        _timed(claude_code.timings, "claude -p, lesson run 2", cc.run, LESSON_AGAIN, *resumed)
        cc.settle(claude_code.timings)
    requests = cc.requests()
    given = f"UserPromptSubmit hook additional context: {LESSON_HEAD}"
    asked = [_request_text(r) for r in requests if LESSON_PROMPT in _request_text(r)]
    assert asked and given in asked[0], asked[0][-3000:]
    assert f"{LESSON}: after a pull, run `alembic upgrade head`" in asked[0]
    again = [_request_text(r) for r in requests if LESSON_AGAIN in _request_text(r)]
    # The second turn's request holds turn 1's lesson (replayed), and no second one.
    assert again and again[0].count(given) == 1, again[0][-3000:]
    # Our capture stored the prompt as typed, not the lesson.
    stored = stored_conversation(cc.store, first.session_id)
    texts = json.dumps(stored, ensure_ascii=False)
    assert LESSON_PROMPT in texts and LESSON not in texts
    conn = sqlite3.connect(cc.store / "acontext.db")
    try:
        uses = conn.execute(
            "SELECT skill, kind, entry, session_id FROM skill_uses WHERE kind = 'prompt'"
        ).fetchall()
    finally:
        conn.close()
    assert uses == [("alembic-migrations", "prompt", LESSON, first.session_id)]
    assert not [x for x in cc.hook_log() if " failed" in x], cc.hook_log()

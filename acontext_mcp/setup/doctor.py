"""`acontext-mcp doctor`: prove the installation works the way the host agent will use it.

Configuration can look right and still fail (a moved venv, a hook that prints junk, a schema
from a newer release), so doctor does not just read settings: it runs the hook commands it
finds there through the shell, as the host would, on a synthetic turn (a two-line transcript in
a temp dir), checks the turn reached the store, times each hook, then deletes that session. It
starts the registered MCP server and asks it for tools/list. Each finding says what to do.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import AcontextError
from acontext_mcp.setup import EXECUTABLE, SERVER_NAME, SetupError
from acontext_mcp.setup import claude_code as cc
from acontext_mcp.setup import openclaw as oc
from acontext_mcp.setup.jsonfile import MISSING, get_in, read_doc

SYNTHETIC_USER = "acontext doctor: synthetic prompt"
SYNTHETIC_REPLY = "acontext doctor: synthetic reply"
INLINE = "ACONTEXT_HOOK_INLINE"  # hooks/__init__.py: run in the foreground, no fork
LOG_WINDOW = 24 * 3600  # hooks.log errors younger than this are reported


@dataclass
class Check:
    area: str
    status: str  # ok | warn | fail | info
    summary: str
    fix: str | None = None


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, area: str, status: str, summary: str, fix: str | None = None) -> None:
        self.checks.append(Check(area, status, summary, fix))

    @property
    def healthy(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checks": [dataclasses.asdict(c) for c in self.checks],
            "latency_ms": self.latency_ms,
        }

    def render(self) -> str:
        lines = ["acontext-mcp doctor"]
        for c in self.checks:
            lines.append(f"  {c.status.upper():<5} {c.area}: {c.summary}")
            if c.fix and c.status in ("warn", "fail"):
                lines.append(f"        fix: {c.fix}")
        fails = sum(c.status == "fail" for c in self.checks)
        lines.append("healthy" if not fails else f"{fails} problem{'s' * (fails > 1)} found")
        return "\n".join(lines)


def run(settings: Settings, *, project: str | None = None, timeout: float = 30.0) -> Report:
    """Every check, in the order a user would fix things."""
    report = Report()
    proj = Path(project or os.getcwd()).expanduser().absolute()
    _check_path(report)
    _check_store(report, settings, "store")
    _check_capture_switch(report, settings, proj)
    probed: dict[str, Any] = {}
    installed = _claude_code(report, settings, proj, timeout, probed)
    installed = _openclaw(report, settings, timeout, probed) or installed
    if not installed:
        report.add(
            "install",
            "fail",
            "acontext-mcp is not installed for any agent",
            "acontext-mcp install claude-code (or: install openclaw)",
        )
    _check_logs(report, settings.logs_dir / "hooks.log")
    if settings.llm_provider:
        report.add("llm", "ok", f"provider {settings.llm_provider}")
    else:
        report.add(
            "llm", "info", "no LLM provider (ACONTEXT_LLM_PROVIDER): capture works, learning waits"
        )
    return report


# --- Environment and store ---


def _check_path(report: Report) -> None:
    found = shutil.which(EXECUTABLE)
    if found:
        report.add("path", "ok", f"{EXECUTABLE} on PATH: {found}")
    else:
        report.add(
            "path",
            "warn",
            f"{EXECUTABLE} is not on PATH (installed hooks use absolute "
            "paths; the Claude Code plugin and OpenClaw's default need PATH)",
            "add the directory holding acontext-mcp to PATH, or use pipx",
        )


def _check_store(report: Report, settings: Settings, area: str) -> bool:
    from acontext_mcp.store.db import open_db
    from acontext_mcp.store.migrations import schema_version

    db = settings.db_path
    if db.exists() and not os.access(db, os.R_OK | os.W_OK):
        report.add(
            area,
            "fail",
            f"{db} is not readable and writable by this user",
            f"fix its permissions (chmod u+rw {db})",
        )
        return False
    try:
        with closing(open_db(settings)) as conn:
            version = schema_version(conn)
            conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
    except AcontextError as exc:  # SchemaTooNew says what to do itself
        report.add(area, "fail", str(exc))
        return False
    except (sqlite3.Error, OSError) as exc:
        report.add(
            area,
            "fail",
            f"database {db} is unusable: {exc}",
            "move it away (acontext-mcp creates a new one) or restore a backup",
        )
        return False
    report.add(area, "ok", f"{db} (schema v{version})")
    return True


def _check_capture_switch(report: Report, settings: Settings, project: Path) -> None:
    from acontext_mcp.capture.privacy import capture_allowed

    try:
        allowed, why = capture_allowed(settings, project_dir=str(project), session_id=None)
    except AcontextError as exc:
        allowed, why = False, str(exc)
    if allowed:
        report.add("capture", "ok", f"capture is on for {project}")
    else:
        report.add(
            "capture",
            "warn",
            f"capture is switched off for {project}: {why}",
            "remove the marker named above if that is not what you want",
        )


def _check_logs(report: Report, log: Path) -> None:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-2000:]
    except FileNotFoundError:
        report.add("logs", "info", f"no hook has run yet ({log} does not exist)")
        return
    except OSError as exc:
        report.add("logs", "warn", f"cannot read {log}: {exc}")
        return
    stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \d+ (.*)$")
    cutoff = time.time() - LOG_WINDOW
    errors = []
    for line in lines:
        m = stamp.match(line)
        if not m or time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) < cutoff:
            continue
        text = m.group(2)
        if " error " in f" {text} " or "not found on PATH" in text:
            errors.append(text)
    if errors:
        report.add(
            "logs",
            "warn",
            f"{len(errors)} hook error(s) in the last 24 h in {log}; latest: {errors[-1][:300]}",
            f"see the tracebacks in {log}",
        )
    else:
        report.add("logs", "ok", f"no hook errors in the last 24 h ({log})")


# --- Running hooks ---


@dataclass
class HookRun:
    ms: float
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str


def _run(
    argv: list[str], payload: dict[str, Any], env: dict[str, str], cwd: Path, timeout: float
) -> HookRun:
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return HookRun(1000 * (time.monotonic() - started), None, out, "")
    except OSError as exc:
        return HookRun(1000 * (time.monotonic() - started), 127, "", str(exc))
    return HookRun(1000 * (time.monotonic() - started), done.returncode, done.stdout, done.stderr)


def _executable_problem(argv: list[str], env: dict[str, str]) -> str | None:
    if not argv:
        return "the command is empty"
    exe = argv[0]
    if "$" in exe:
        return None  # a placeholder the host expands; cannot judge here
    if os.sep in exe:
        if not os.path.isfile(exe):
            return f"{exe} does not exist"
        if not os.access(exe, os.X_OK):
            return f"{exe} is not executable"
        return None
    if shutil.which(exe, path=env.get("PATH")) is None:
        return f"{exe} is not on PATH"
    return None


def _landed(home: Path, session_id: str) -> int:
    """Messages the synthetic session has in the store at `home`; the session is deleted."""
    from acontext_mcp.store.cleanup import delete_session
    from acontext_mcp.store.db import connect

    db = home / "acontext.db"
    if not db.exists():
        return 0
    with closing(connect(db)) as conn:
        try:
            count = conn.execute(
                "SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
        finally:
            delete_session(conn, session_id)
    return count


def _new_log_lines(log: Path, offset: int) -> list[str]:
    try:
        with log.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _why_nothing(home: Path, project: Path, sid: str, log_lines: list[str]) -> str:
    from acontext_mcp.capture.privacy import capture_allowed

    settings = dataclasses.replace(Settings.from_env(), home=home)
    allowed, why = capture_allowed(settings, project_dir=str(project), session_id=sid)
    if not allowed:
        return f"capture is switched off: {why}"
    errors = [line for line in log_lines if " error " in line or "failed" in line]
    if errors:
        return "the hook logged: " + errors[-1][:400]
    return "the hook exited cleanly but stored nothing (is its ACONTEXT_HOME another store?)"


# --- Claude Code ---


def _transcript(folder: Path, sid: str) -> Path:
    path = folder / f"{sid}.jsonl"
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    base = {"sessionId": sid, "timestamp": now, "cwd": str(folder)}
    lines = [
        {
            "type": "user",
            "uuid": f"{sid}-u",
            "parentUuid": None,
            **base,
            "message": {"role": "user", "content": SYNTHETIC_USER},
        },
        {
            "type": "assistant",
            "uuid": f"{sid}-a",
            "parentUuid": f"{sid}-u",
            **base,
            "message": {
                "id": f"msg_{sid}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": SYNTHETIC_REPLY}],
                "stop_reason": "end_turn",
            },
        },
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _payload(event: str, sid: str, transcript: Path, cwd: Path) -> dict[str, Any]:
    tool = {"tool_name": "Bash", "tool_input": {"command": "true"}, "tool_use_id": f"toolu_{sid}"}
    extra: dict[str, dict[str, Any]] = {
        "SessionStart": {"source": "startup"},
        "UserPromptSubmit": {"prompt": SYNTHETIC_USER},
        "PostToolUse": {
            **tool,
            "tool_response": {"stdout": "", "stderr": "", "interrupted": False},
        },
        "PostToolUseFailure": {**tool, "error": "exit 1"},
        "Stop": {"stop_hook_active": False, "last_assistant_message": SYNTHETIC_REPLY},
        "SubagentStop": {
            "stop_hook_active": False,
            "agent_id": "doctor",
            "agent_type": "general-purpose",
        },
        "PreCompact": {"trigger": "manual", "custom_instructions": ""},
        "SessionEnd": {"reason": "other"},
    }
    return {
        "session_id": sid,
        "transcript_path": str(transcript),
        "cwd": str(cwd),
        "hook_event_name": event,
        "permission_mode": "default",
        **extra.get(event, {}),
    }


def _found_hooks(report: Report, project: Path) -> tuple[dict[str, list[tuple[Path, dict]]], bool]:
    """Our handlers per event across the settings files, and whether the plugin is on."""
    found: dict[str, list[tuple[Path, dict]]] = {}
    plugin = False
    for _scope, path in cc.settings_files(project):
        try:
            data = read_doc(path).data
        except SetupError as exc:
            report.add(
                "claude-code",
                "fail",
                str(exc).split("; refusing")[0] + " (Claude Code cannot read it either)",
                f"fix {path}",
            )
            continue
        if data.get("disableAllHooks") is True:
            report.add(
                "claude-code",
                "fail",
                f"{path} sets disableAllHooks: no hook runs",
                f"remove disableAllHooks from {path}",
            )
        enabled = data.get("enabledPlugins")
        if isinstance(enabled, dict):
            plugin = plugin or any(k.startswith("acontext@") and v for k, v in enabled.items())
        hooks = data.get("hooks") if isinstance(data.get("hooks"), dict) else {}
        for event, groups in hooks.items():
            for group in groups if isinstance(groups, list) else []:
                handlers = group.get("hooks") if isinstance(group, dict) else None
                for h in handlers if isinstance(handlers, list) else []:
                    if cc.is_our_handler(h):
                        found.setdefault(event, []).append((path, h))
    return found, plugin


def _claude_code(
    report: Report, settings: Settings, project: Path, timeout: float, probed: dict[str, Any]
) -> bool:
    found, plugin = _found_hooks(report, project)
    servers = _claude_servers(report, project)
    if not found and not plugin and not servers:
        report.add("claude-code", "info", "not installed for Claude Code")
        return False
    if plugin:
        report.add(
            "claude-code",
            "info",
            "the acontext Claude Code plugin is enabled; its hooks "
            "run `acontext-mcp` from PATH (or $ACONTEXT_MCP_BIN)"
            + ("" if found else "; doctor runs only hooks from settings files"),
        )
    if found or not plugin:
        missing = [e for e in cc.HOOK_EVENTS if e not in found]
        if missing:
            report.add(
                "claude-code",
                "fail",
                f"hooks missing for {', '.join(missing)}",
                "acontext-mcp install claude-code (adds only what is missing)",
            )
        else:
            files = sorted({str(p) for hs in found.values() for p, _ in hs})
            report.add(
                "claude-code",
                "ok",
                f"hooks for all {len(cc.HOOK_EVENTS)} events in {', '.join(files)}",
            )
        for event, hs in found.items():
            wrong = [h for _, h in hs if cc.hook_event_of(h) not in (event, None)]
            if wrong:
                report.add(
                    "claude-code",
                    "warn",
                    f"hooks.{event} runs the hook for {cc.hook_event_of(wrong[0])}",
                    "acontext-mcp install claude-code",
                )
        if found:
            _fire_claude_hooks(report, settings, found, timeout)
    if not servers and not plugin:
        report.add(
            "claude-code",
            "fail",
            f"MCP server `{SERVER_NAME}` is not registered "
            "(~/.claude.json mcpServers or .mcp.json)",
            "acontext-mcp install claude-code",
        )
    elif servers:
        scope, entry = servers[0]
        _probe_entry(report, "claude-code mcp", f"{scope} scope", entry, timeout, probed)
    return True


def _claude_servers(report: Report, project: Path) -> list[tuple[str, Any]]:
    """Registered `acontext` servers, highest precedence first (local > project > user)."""
    out: list[tuple[str, Any]] = []
    try:
        user_data = read_doc(cc.claude_json()).data
    except SetupError as exc:
        report.add("claude-code", "fail", str(exc).split("; refusing")[0])
        user_data = {}
    local = get_in(user_data, ["projects", str(project), "mcpServers", SERVER_NAME])
    if local is not MISSING:
        out.append(("local", local))
    try:
        proj = get_in(read_doc(project / ".mcp.json").data, ["mcpServers", SERVER_NAME])
    except SetupError as exc:
        report.add("claude-code", "fail", str(exc).split("; refusing")[0])
        proj = MISSING
    if proj is not MISSING:
        out.append(("project", proj))
    user = get_in(user_data, ["mcpServers", SERVER_NAME])
    if user is not MISSING:
        out.append(("user", user))
    return out


def _handler_argv(handler: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    """(argv to run as the host does, env assignments, the command's own argv)."""
    env, own = cc.handler_argv(handler) or ({}, [])
    if isinstance(handler.get("args"), list):
        return own, {}, own
    shell = "bash" if handler.get("shell") == "bash" else "/bin/sh"
    return [shell, "-c", handler["command"]], env, own


def _fire_claude_hooks(
    report: Report, settings: Settings, found: dict[str, list[tuple[Path, dict]]], timeout: float
) -> None:
    sid = f"acontext-doctor-{secrets.token_hex(6)}"
    homes = set()
    latency: dict[str, float] = {}
    folder = Path(tempfile.mkdtemp(prefix="acontext-doctor-"))
    try:
        transcript = _transcript(folder, sid)
        # Inline: the capture finishes before the hook exits, so the store can be checked
        # and the latency is the whole work (the host only waits for the fork).
        env = {**os.environ, "CLAUDE_PROJECT_DIR": str(folder), INLINE: "1"}
        problems: list[tuple[str, str]] = []
        log_lines: list[str] = []
        for event in [e for e in cc.HOOK_EVENTS if e in found]:
            handler = found[event][0][1]
            argv, assigned, own = _handler_argv(handler)
            home = Path(
                assigned.get("ACONTEXT_HOME") or env.get("ACONTEXT_HOME") or settings.home
            ).expanduser()
            homes.add(home)
            if len({json.dumps(h, sort_keys=True) for _, h in found[event]}) > 1:
                places = ", ".join(sorted({str(p) for p, _ in found[event]}))
                problems.append(("warn", f"{event} has differing acontext hooks in {places}"))
            bad = _executable_problem(own, {**env, **assigned})
            if bad:
                problems.append(("fail", f"{event}: {bad}"))
                continue
            log = home / "logs" / "hooks.log"
            offset = _size(log)
            ran = _run(argv, _payload(event, sid, transcript, folder), env, folder, timeout)
            log_lines += _new_log_lines(log, offset)
            latency[event] = round(ran.ms, 1)
            problems += _judge(event, ran, handler)
        report.latency_ms["claude-code"] = latency
        for home in sorted(homes):
            if home != settings.home:
                report.add(
                    "claude-code",
                    "info",
                    f"the hooks write to {home} (this shell's store is {settings.home})",
                )
        for level in ("fail", "warn"):
            found_ = [text for lvl, text in problems if lvl == level]
            if found_:
                report.add(
                    "claude-code",
                    level,
                    "hook commands: " + "; ".join(found_),
                    "acontext-mcp install claude-code (rewrites our hook commands)",
                )
        stored = sum(_landed(h, sid) for h in homes)
        if latency and stored == 0:
            report.add(
                "claude-code",
                "fail",
                "the synthetic turn did not reach the store: "
                + _why_nothing(next(iter(homes)), folder, sid, log_lines),
            )
        elif latency:
            report.add(
                "claude-code",
                "ok" if stored == 2 else "warn",
                f"a synthetic turn through the installed hooks stored {stored} of 2 messages "
                "(then deleted)",
            )
        if latency:
            text = ", ".join(f"{e} {ms:.0f} ms" for e, ms in latency.items())
            waits = _host_wait(found, env, folder, timeout)
            if waits is not None:
                latency["host_wait_Stop"] = waits
                text += f"; the host waits {waits:.0f} ms per detached event"
            report.add("claude-code", "ok", f"hook latency (full work, inline): {text}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _host_wait(
    found: dict[str, list[tuple[Path, dict]]], env: dict[str, str], folder: Path, timeout: float
) -> float | None:
    """How long the host blocks on the Stop command when it detaches (its default): run with
    an empty payload, which captures nothing."""
    argv, _assigned, own = _handler_argv(found["Stop"][0][1]) if "Stop" in found else ([], {}, [])
    if not argv or _executable_problem(own, env):
        return None
    plain = {k: v for k, v in env.items() if k != INLINE}
    ran = _run(argv, {}, plain, folder, timeout)
    return round(ran.ms, 1) if ran.returncode == 0 else None


def _judge(event: str, ran: HookRun, handler: dict[str, Any]) -> list[tuple[str, str]]:
    """[(fail|warn, finding)] for one run. Slowness only warns: hosts mostly wait for the
    fork, not for the work measured here."""
    if ran.returncode is None:
        return [("fail", f"{event} did not finish within doctor's --timeout")]
    if ran.returncode == 127:
        return [("fail", f"{event}: command not found ({ran.stderr.strip()[:200]})")]
    if ran.returncode != 0:
        return [("fail", f"{event}: exit {ran.returncode}: {ran.stderr.strip()[:200]}")]
    found = []
    out = ran.stdout.strip()
    if out:
        try:
            json.loads(out)
        except ValueError:
            found.append(("warn", f"{event} printed text that is not JSON: {out[:120]!r}"))
    limit = handler.get("timeout")
    if isinstance(limit, (int, float)) and ran.ms / 1000 > 0.5 * limit:
        found.append(("warn", f"{event} took {ran.ms:.0f} ms, over half its {limit} s timeout"))
    return found


# --- MCP ---


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value: str) -> str:
    """`${VAR}` / `${VAR:-default}`, as Claude Code expands them in .mcp.json."""
    return _VAR.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value)


def _probe_entry(
    report: Report, area: str, where: str, entry: Any, timeout: float, probed: dict[str, Any]
) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
        kind = entry.get("type") if isinstance(entry, dict) else type(entry).__name__
        report.add(
            area, "warn", f"`{SERVER_NAME}` ({where}) is not a stdio server ({kind}); not probed"
        )
        return
    command = _expand(entry["command"])
    args = [_expand(str(a)) for a in entry.get("args") or []]
    env = {k: _expand(str(v)) for k, v in (entry.get("env") or {}).items()}
    key = json.dumps([command, args, env])
    if key not in probed:  # both agents usually register the same server: start it once
        probed[key] = _probe(command, args, env, timeout)
    status, detail, fix = probed[key]
    report.add(area, status, f"MCP server ({where}, `{' '.join([command, *args])}`) {detail}", fix)


def _probe(
    command: str, args: list[str], env: dict[str, str], timeout: float
) -> tuple[str, str, str | None]:
    """(status, what happened, fix) of starting the server and asking for tools/list."""
    import anyio

    bad = _executable_problem([command], {**os.environ, **env})
    if bad:
        return "fail", f"cannot start: {bad}", "acontext-mcp install <agent> (registers this one)"
    try:
        count, ms = anyio.run(_list_tools, command, args, env, timeout)
    except Exception as exc:
        return "fail", f"did not answer tools/list: {exc}", "run the command by hand to see why"
    return "ok", f"answered tools/list with {count} tools in {ms:.0f} ms", None


async def _list_tools(
    command: str, args: list[str], env: dict[str, str], timeout: float
) -> tuple[int, float]:
    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=command, args=args, env={**os.environ, **env})
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
        started = time.monotonic()
        try:
            with anyio.fail_after(timeout):
                async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
                    tools = (await client.list_tools()).tools
        except BaseException as exc:
            errlog.seek(0)
            tail = errlog.read().strip().splitlines()[-3:]
            leaf = _leaf(exc)
            what = (
                f"no answer within {timeout:.0f} s"
                if isinstance(leaf, TimeoutError)
                else (f"{type(leaf).__name__}: {leaf}")
            )
            raise RuntimeError(
                what + (f"; its stderr: {' | '.join(tail)}" if tail else "")
            ) from exc
        return len(tools), 1000 * (time.monotonic() - started)


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


# --- OpenClaw ---


def _openclaw(report: Report, settings: Settings, timeout: float, probed: dict[str, Any]) -> bool:
    path = oc.config_path()
    if not path.exists():
        report.add("openclaw", "info", f"not installed for OpenClaw ({path} does not exist)")
        return False
    try:
        data = read_doc(path).data
    except SetupError:
        report.add(
            "openclaw",
            "warn",
            f"{path} is JSON5 or malformed; doctor reads plain JSON only",
            f"openclaw plugins inspect {oc.PLUGIN_ID} --runtime --json",
        )
        return False
    entry = get_in(data, oc.ENTRY)
    paths = get_in(data, oc.PATHS)
    ours = [p for p in paths if oc.is_our_plugin_path(p)] if isinstance(paths, list) else []
    if entry is MISSING and not ours:
        report.add("openclaw", "info", f"not installed for OpenClaw ({path})")
        return False
    problems = _openclaw_config_problems(data, ours)
    for text, fix in problems:
        report.add("openclaw", "fail", text, fix)
    if not problems:
        report.add("openclaw", "ok", f"plugin {ours[0]} enabled with conversation access ({path})")
    config = get_in(data, [*oc.ENTRY, "config"])
    config = config if isinstance(config, dict) else {}
    command = str(config.get("command") or EXECUTABLE)
    home = Path(str(config.get("acontextHome") or os.environ.get("ACONTEXT_HOME") or settings.home))
    _fire_openclaw_hook(report, Path(command).expanduser().as_posix(), home.expanduser(), timeout)
    server, where = get_in(data, oc.SERVER), "mcp.servers"
    if server is MISSING:  # the plugin manifest's own definition
        server, where = {"command": EXECUTABLE, "args": ["serve"]}, "plugin manifest"
    _probe_entry(report, "openclaw mcp", where, server, timeout, probed)
    return True


def _openclaw_config_problems(data: dict[str, Any], ours: list[str]) -> list[tuple[str, str]]:
    fix = "acontext-mcp install openclaw"
    out = []
    if not ours:
        out.append(("the plugin folder is not in plugins.load.paths (or no longer exists)", fix))
    if get_in(data, [*oc.ENTRY, "enabled"]) is False:
        out.append((f"plugins.entries.{oc.PLUGIN_ID}.enabled is false", fix))
    if get_in(data, [*oc.ENTRY, "hooks", "allowConversationAccess"]) is not True:
        out.append(
            (
                "allowConversationAccess is not true: OpenClaw never hands the plugin the "
                "conversation, nothing is captured",
                fix,
            )
        )
    allow = get_in(data, oc.ALLOW)
    if isinstance(allow, list) and allow and oc.PLUGIN_ID not in allow:
        out.append((f"plugins.allow does not list {oc.PLUGIN_ID!r}", fix))
    deny = get_in(data, ["plugins", "deny"])
    if isinstance(deny, list) and oc.PLUGIN_ID in deny:
        out.append((f"plugins.deny lists {oc.PLUGIN_ID!r}", "remove it from plugins.deny"))
    if get_in(data, ["plugins", "enabled"]) is False:
        out.append(("plugins.enabled is false: no plugin loads", "set plugins.enabled true"))
    return out


def _fire_openclaw_hook(report: Report, command: str, home: Path, timeout: float) -> None:
    """What the plugin does at agent_end: spawn `<command> hook openclaw agent_end`."""
    env = {**os.environ, "ACONTEXT_HOME": str(home)}
    bad = _executable_problem([command], env)
    if bad:
        report.add(
            "openclaw",
            "fail",
            f"the plugin's command cannot run: {bad}",
            f"openclaw config set plugins.entries.{oc.PLUGIN_ID}.config.command "
            "'\"/path/to/acontext-mcp\"' (or acontext-mcp install openclaw)",
        )
        return
    sid = f"acontext-doctor-{secrets.token_hex(6)}"
    now = int(time.time() * 1000)
    folder = Path(tempfile.mkdtemp(prefix="acontext-doctor-"))
    try:
        payload = {
            "sessionId": sid,
            "sessionKey": f"agent:main:{sid}",
            "agentId": "main",
            "cwd": str(folder),
            "success": True,
            "messages": [
                {"role": "user", "content": SYNTHETIC_USER, "timestamp": now},
                {"role": "assistant", "content": SYNTHETIC_REPLY, "timestamp": now + 1},
            ],
        }
        log = home / "logs" / "hooks.log"
        offset = _size(log)
        ran = _run([command, "hook", "openclaw", "agent_end"], payload, env, folder, timeout)
        report.latency_ms["openclaw"] = {"agent_end": round(ran.ms, 1)}
        problems = [text for level, text in _judge("agent_end", ran, {}) if level == "fail"]
        stored = _landed(home, sid)
        if problems:
            report.add("openclaw", "fail", "; ".join(problems))
        elif stored == 0:
            why = _why_nothing(home, folder, sid, _new_log_lines(log, offset))
            report.add("openclaw", "fail", f"the synthetic turn did not reach the store: {why}")
        else:
            report.add(
                "openclaw",
                "ok" if stored == 2 else "warn",
                f"a synthetic agent_end stored {stored} of 2 messages (then deleted); "
                f"hook latency {ran.ms:.0f} ms",
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

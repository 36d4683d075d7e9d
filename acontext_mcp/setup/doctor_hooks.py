"""Doctor's hook checks: run the installed hook commands on a synthetic turn, as the host would.

Settings can look right and still fail (a moved venv, a hook that prints junk, a store it
cannot write), so the commands found in Claude Code's settings files, and the command the
OpenClaw plugin spawns at agent_end, are run through the shell on a two-line turn in a temp
dir. Each run is timed and judged, the turn must reach the store, and is then deleted.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings, env_text
from acontext_mcp.setup import EXECUTABLE, SetupError, executable_problem
from acontext_mcp.setup import claude_code as cc
from acontext_mcp.setup import openclaw as oc
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.setup.jsonfile import MISSING, get_in, read_doc

SYNTHETIC_USER = "acontext doctor: synthetic prompt"
SYNTHETIC_REPLY = "acontext doctor: synthetic reply"
INLINE = "ACONTEXT_HOOK_INLINE"  # hooks/__init__.py: run in the foreground, no fork

Found = dict[str, list[tuple[Path, dict[str, Any]]]]  # event -> (settings file, our handler)


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
    """One hook run, payload on stdin as the host sends it; a timeout or failed start is a
    result to judge, not an exception."""
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


def _landed(home: Path, session_id: str) -> int:
    """Messages the synthetic session has in the store at `home`; the session is deleted."""
    from acontext_mcp.store.cleanup import delete_session
    from acontext_mcp.store.db import connect
    from acontext_mcp.store.messages import count_messages

    db = home / "acontext.db"
    if not db.exists():
        return 0
    with closing(connect(db)) as conn:
        if getattr(conn, "damage", None):
            return 0  # a damaged store takes no writes (store/integrity.py): none landed
        try:
            count = count_messages(conn, session_id)
        finally:
            delete_session(conn, session_id)
    return count


def _new_log_lines(log: Path, offset: int) -> list[str]:
    """What a hook appended to hooks.log since `offset` (see `_size`): its own errors."""
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
    """The likeliest reason a clean hook run stored nothing, for the fail message."""
    from acontext_mcp.privacy.switches import capture_allowed

    settings = Settings.from_env().replace(home=home)
    allowed, why = capture_allowed(settings, project_dir=str(project), session_id=sid)
    if not allowed:
        return f"capture is switched off: {why}"
    errors = [line for line in log_lines if " error " in line or "failed" in line]
    if errors:
        return "the hook logged: " + errors[-1][:400]
    return "the hook exited cleanly but stored nothing (is its ACONTEXT_HOME another store?)"


# --- Claude Code ---


def _transcript(folder: Path, sid: str) -> Path:
    """A two-line Claude Code transcript (one user turn, one reply) for the hooks to read."""
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
    """The stdin Claude Code sends the hook for `event`, with the fields that event has."""
    tool = {"tool_name": "Bash", "tool_input": {"command": "true"}, "tool_use_id": f"toolu_{sid}"}
    extra: dict[str, dict[str, Any]] = {
        "SessionStart": {"source": "startup"},
        "UserPromptSubmit": {"prompt": SYNTHETIC_USER},
        "PostToolUse": {
            **tool,
            "tool_response": {"stdout": "", "stderr": "", "interrupted": False},
        },
        "PostToolUseFailure": {**tool, "error": "exit 1"},
        "TaskCompleted": {"task_id": "1", "task_subject": "doctor check"},
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


def found_hooks(report: Report, project: Path) -> tuple[Found, bool]:
    """Our handlers per event across the settings files, and whether the plugin is on."""
    found: Found = {}
    plugin = False
    for path in cc.settings_files(project):
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
        hooks = data.get("hooks")
        if not isinstance(hooks, dict):
            hooks = {}
        for event, groups in hooks.items():
            for group in groups if isinstance(groups, list) else []:
                handlers = group.get("hooks") if isinstance(group, dict) else None
                for h in handlers if isinstance(handlers, list) else []:
                    if cc.is_our_handler(h):
                        found.setdefault(event, []).append((path, h))
    return found, plugin


def check_claude_hooks(
    report: Report, settings: Settings, found: Found, plugin: bool, timeout: float
) -> None:
    """Every event covered, each handler for its own event, then a synthetic turn through them."""
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
            spec = cc.HOOK_EVENTS.get(event, {})
            if not spec.get("async") and any(h.get("async") for _, h in hs):
                # An install from before the prompt lesson: Claude Code never reads the
                # answer of an async hook, so no lesson (or brief) would reach the model.
                report.add(
                    "claude-code",
                    "warn",
                    f"hooks.{event} is async: Claude Code ignores its answer (the learned "
                    "lesson or brief it gives)",
                    "acontext-mcp install claude-code (rewrites our hook entries)",
                )
        if found:
            _fire_claude_hooks(report, settings, found, timeout)


def _handler_argv(handler: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    """(argv to run as the host does, env assignments, the command's own argv)."""
    env, own = cc.handler_argv(handler) or ({}, [])
    if isinstance(handler.get("args"), list):
        return own, {}, own
    shell = "bash" if handler.get("shell") == "bash" else "/bin/sh"
    return [shell, "-c", handler["command"]], env, own


def _fire_claude_hooks(report: Report, settings: Settings, found: Found, timeout: float) -> None:
    """Run the first handler per event on one synthetic session; judge, time, then clean up."""
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
            bad = executable_problem(own, {**env, **assigned})
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


def _host_wait(found: Found, env: dict[str, str], folder: Path, timeout: float) -> float | None:
    """How long the host blocks on the Stop command when it detaches (its default): run with
    an empty payload, which captures nothing."""
    argv, _assigned, own = _handler_argv(found["Stop"][0][1]) if "Stop" in found else ([], {}, [])
    if not argv or executable_problem(own, env):
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


# --- OpenClaw ---


def check_openclaw(report: Report, settings: Settings, timeout: float) -> dict[str, Any] | None:
    """The OpenClaw config, once checked and its agent_end hook fired; None when acontext is
    not installed there (or the config cannot be read as plain JSON)."""
    path = oc.config_path()
    if not path.exists():
        report.add("openclaw", "info", f"not installed for OpenClaw ({path} does not exist)")
        return None
    try:
        data = read_doc(path).data
    except SetupError:
        report.add(
            "openclaw",
            "warn",
            f"{path} is JSON5 or malformed; doctor reads plain JSON only",
            f"openclaw plugins inspect {oc.PLUGIN_ID} --runtime --json",
        )
        return None
    entry = get_in(data, oc.ENTRY)
    paths = get_in(data, oc.PATHS)
    ours = [p for p in paths if oc.is_our_plugin_path(p)] if isinstance(paths, list) else []
    if entry is MISSING and not ours:
        report.add("openclaw", "info", f"not installed for OpenClaw ({path})")
        return None
    problems = _openclaw_config_problems(data, ours)
    for text, fix in problems:
        report.add("openclaw", "fail", text, fix)
    if not problems:
        report.add("openclaw", "ok", f"plugin {ours[0]} enabled with conversation access ({path})")
    config = get_in(data, [*oc.ENTRY, "config"])
    config = config if isinstance(config, dict) else {}
    command = str(config.get("command") or EXECUTABLE)
    home = Path(str(config.get("acontextHome") or env_text("ACONTEXT_HOME") or settings.home))
    _fire_openclaw_hook(report, Path(command).expanduser().as_posix(), home.expanduser(), timeout)
    return data


def _openclaw_config_problems(data: dict[str, Any], ours: list[str]) -> list[tuple[str, str]]:
    """[(finding, fix)] for each setting that keeps OpenClaw from loading or feeding us."""
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
    bad = executable_problem([command], env)
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

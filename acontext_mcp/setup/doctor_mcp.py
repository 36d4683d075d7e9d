"""Doctor's MCP checks: find the registered `acontext` server and ask it for tools/list.

An entry can name a moved venv or a server that crashes at start, and the host only says the
tools are missing, so the server is started over stdio exactly as registered, with a timeout.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from acontext_mcp.setup import EXECUTABLE, SERVER_NAME, SetupError, executable_problem
from acontext_mcp.setup import claude_code as cc
from acontext_mcp.setup import openclaw as oc
from acontext_mcp.setup.doctor_report import Report
from acontext_mcp.setup.jsonfile import MISSING, get_in, read_doc

Probe = tuple[str, str, str | None]  # (status, what happened, fix)
Probed = dict[str, Probe]  # by command line, env included

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def claude_servers(report: Report, project: Path) -> list[tuple[str, Any]]:
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


def check_claude_server(
    report: Report,
    servers: list[tuple[str, Any]],
    plugin: bool,
    timeout: float,
    probed: Probed,
) -> None:
    """Probe the entry Claude Code would use; the plugin brings its own when none is set."""
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


def check_openclaw_server(
    report: Report, data: dict[str, Any], timeout: float, probed: Probed
) -> None:
    """Probe mcp.servers.acontext, or else the server the plugin manifest defines."""
    server, where = get_in(data, oc.SERVER), "mcp.servers"
    if server is MISSING:  # the plugin manifest's own definition
        server, where = {"command": EXECUTABLE, "args": ["serve"]}, "plugin manifest"
    _probe_entry(report, "openclaw mcp", where, server, timeout, probed)


def _expand(value: str) -> str:
    """`${VAR}` / `${VAR:-default}`, as Claude Code expands them in .mcp.json."""
    return _VAR.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value)


def _probe_entry(
    report: Report, area: str, where: str, entry: Any, timeout: float, probed: Probed
) -> None:
    """Report one registered entry, expanded as the host expands it; only stdio is probed."""
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


def _probe(command: str, args: list[str], env: dict[str, str], timeout: float) -> Probe:
    """Start the server and ask for tools/list."""
    import anyio

    bad = executable_problem([command], {**os.environ, **env})
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
    """(tool count, ms); on failure the cause and the server's last stderr lines."""
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
                else f"{type(leaf).__name__}: {leaf}"
            )
            raise RuntimeError(
                what + (f"; its stderr: {' | '.join(tail)}" if tail else "")
            ) from exc
        return len(tools), 1000 * (time.monotonic() - started)


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside anyio's exception groups, which say nothing themselves."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc

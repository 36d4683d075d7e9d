"""One claude-cli background call with a user's Claude Code setup in place: before and after
the flags that keep it quiet (issue 10, item 8).

A temp HOME gets what a user has: a command hook on six events in ~/.claude/settings.json
(each one `python -c` appending a line), an MCP server in ~/.claude.json and a CLAUDE.md.
Real Claude Code (`--claude`, default: the one the e2e tests install into .ci/cache) runs
`ClaudeCLIBackend.send` against tests/support/anthropic_model.py on 127.0.0.1, first with the
old flags (`--strict-mcp-config --no-session-persistence`), then with today's, interleaved.
Prints, per flag set: the median and min/max wall time of one call, hook runs and MCP server
starts per call, and the request size in bytes (the user's CLAUDE.md rides along or not).

`python bench/bench_claude_cli_call.py [--runs 5] [--claude PATH]`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from acontext_mcp.llm import claude_cli

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "tests" / "support" / "anthropic_model.py"
OLD = ("--strict-mcp-config", "--no-session-persistence")
EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd")
APPEND = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')"
MESSAGES = [{"role": "user", "parts": [{"type": "text", "text": "Please add dark mode."}]}]


def _user_setup(home: Path, logs: Path) -> None:
    py = shlex.quote(sys.executable)
    hooks = {
        event: [
            {
                "matcher": "*",
                "hooks": [
                    {
                        "type": "command",
                        "command": f"{py} -c {shlex.quote(APPEND)} {logs / 'hooks.log'} {event}",
                    }
                ],
            }
        ]
        for event in EVENTS
    }
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(json.dumps({"hooks": hooks}))
    (home / ".claude" / "CLAUDE.md").write_text("Always answer in French.\n" * 40)
    argv = ["-c", APPEND + "; sys.stdin.read()", str(logs / "servers.log"), "started"]
    server = {"type": "stdio", "command": sys.executable, "args": argv}
    (home / ".claude.json").write_text(json.dumps({"mcpServers": {"mine": server}}))


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--claude",
        default=str(REPO / ".ci" / "cache" / "node" / "node_modules" / ".bin" / "claude"),
    )
    args = parser.parse_args()
    claude = Path(args.claude)
    if not claude.exists():
        sys.exit(f"no Claude Code at {claude}: run the e2e tests once, or pass --claude")
    version = subprocess.run([str(claude), "--version"], capture_output=True, text=True).stdout
    print(f"Python {platform.python_version()}, Claude Code {version.strip()}, {args.runs} runs")

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        root = Path(tmp)
        home, logs = root / "home", root / "logs"
        logs.mkdir()
        _user_setup(home, logs)
        script = root / "script.json"
        script.write_text(json.dumps({"conversations": [], "final": '{"text": "ok"}'}))
        port_file, log = root / "port", root / "model.jsonl"
        server = subprocess.Popen(
            [
                sys.executable,
                str(MODEL),
                "--port-file",
                str(port_file),
                "--log",
                str(log),
                "--script",
                str(script),
            ],
            stderr=subprocess.DEVNULL,
        )
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            os.environ.update(
                {
                    "HOME": str(home),
                    "ANTHROPIC_API_KEY": "sk-bench",
                    "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port_file.read_text()}",
                    "DISABLE_TELEMETRY": "1",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                    "PATH": f"{claude.parent}{os.pathsep}{os.environ['PATH']}",
                }
            )
            os.environ.pop("CLAUDE_CONFIG_DIR", None)
            backend = claude_cli.ClaudeCLIBackend(timeout=120, cwd=root / "cwd")
            quiet = claude_cli.QUIET
            found: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
            for _ in range(args.runs):
                for label, flags in (("old", OLD), ("new", quiet)):
                    claude_cli.QUIET = flags
                    before = (_lines(logs / "hooks.log"), _lines(logs / "servers.log"))
                    sent_before = _lines(log)
                    started = time.perf_counter()
                    backend.send(
                        system="You track tasks.", messages=MESSAGES, tools=[], max_tokens=256
                    )
                    seconds = time.perf_counter() - started
                    time.sleep(0.5)  # let a SessionEnd hook land before counting
                    entry = found[label]
                    entry.setdefault("s", []).append(seconds)
                    entry.setdefault("hooks", []).append(_lines(logs / "hooks.log") - before[0])
                    entry.setdefault("servers", []).append(_lines(logs / "servers.log") - before[1])
                    bodies = [
                        len(json.dumps(r["body"]))
                        for r in map(json.loads, log.read_text().splitlines()[sent_before:])
                        if r.get("method") == "POST"
                    ]
                    entry.setdefault("bytes", []).append(sum(bodies))
            claude_cli.QUIET = quiet
        finally:
            server.kill()
            server.wait()

    print(
        f"{'flags':<5} {'median s':>9} {'min s':>7} {'max s':>7} {'hooks/call':>11} "
        f"{'servers/call':>13} {'request bytes':>14}"
    )
    for label, entry in found.items():
        s = entry["s"]
        print(
            f"{label:<5} {statistics.median(s):>9.2f} {min(s):>7.2f} {max(s):>7.2f} "
            f"{statistics.median(entry['hooks']):>11g} {statistics.median(entry['servers']):>13g} "
            f"{statistics.median(entry['bytes']):>14,.0f}"
        )
    ratio = statistics.median(found["new"]["s"]) / statistics.median(found["old"]["s"])
    print(f"new / old wall time: {ratio:.2f}")


if __name__ == "__main__":
    main()

"""Shared by the server benchmarks: realistic turns and the server on bare stdio pipes.

Imported as `_support` (each `bench/*.py` script runs with `bench/` first on sys.path).
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SERVE = [sys.executable, "-m", "acontext_mcp", "serve"]

_TEXT = (
    "the config loader reads values from the environment and falls back to defaults when a key "
    "is missing so tests can run without a home directory session cache index request handler "
    "parser returns a list of records sorted by time which the caller pages through with a cursor"
)
_WORDS = _TEXT.split()
_CODE = [
    "def load_settings(path: Path) -> dict[str, Any]:",
    "    with path.open(encoding='utf-8') as fh:",
    "        data = json.load(fh)",
    "    if 'version' not in data:",
    "        raise ValueError(f'{path} has no version field')",
    "    return {k: v for k, v in data.items() if not k.startswith('_')}",
    "for item in sorted(records, key=lambda r: r['updated_at']):",
    "    total += item.get('size', 0)",
    "logger.info('loaded %d records from %s', len(records), source)",
]


def prose(rng: random.Random, chars: int) -> str:
    """Sentences from a small vocabulary, wrapped at about 100 characters per line."""
    lines: list[str] = []
    line = ""
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 18))).capitalize()
        size += len(sentence) + 1
        if line and len(line) + len(sentence) > 100:
            lines.append(line)
            line = ""
        line = f"{line} {sentence}." if line else sentence + "."
    return "\n".join([*lines, line])


def code(rng: random.Random, chars: int) -> str:
    lines: list[str] = []
    size = 0
    while size < chars:
        line = rng.choice(_CODE)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def openai_turn(index: int, rng: random.Random) -> list[dict[str, Any]]:
    """One agent turn in OpenAI shape: user, assistant tool call, tool result, assistant.

    About 1-2 KB per message; tool-call ids are unique per turn (they are dedup keys).
    """
    call_id = f"call_{index:06d}_{rng.randrange(16**8):08x}"
    arguments = json.dumps(
        {"path": f"src/pkg/module_{index % 40}.py", "old": code(rng, 450), "new": code(rng, 450)}
    )
    return [
        {"role": "user", "content": prose(rng, rng.randint(1000, 1800))},
        {
            "role": "assistant",
            "content": prose(rng, 200),
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "edit_file", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": code(rng, rng.randint(1200, 2000))},
        {"role": "assistant", "content": prose(rng, rng.randint(1000, 1600))},
    ]


def turns(count: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    return [openai_turn(i, rng) for i in range(count)]


def median(values: list[float]) -> float:
    return statistics.median(values)


class RawServer:
    """`acontext-mcp serve` on bare pipes: legacy handshake, one request line at a time."""

    def __init__(self, home: Path) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            SERVE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"ACONTEXT_HOME": str(home), "PATH": "/usr/bin:/bin"},
        )
        self._id = 0
        self.last_line = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._id += 1
        self._write({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or {}})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server exited (code {self.proc.wait()}) before answering {method}")
        self.last_line = line
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def notify(self, method: str) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": {}})

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "acontext-bench", "version": "0"},
            },
        )
        self.notify("notifications/initialized")
        return result

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(f"{name} failed: {result['content'][0]['text']}")
        return result["structuredContent"]

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def module_at(rev: str, rel: str, name: str) -> Any:
    """`rel` (a module file of this repository) as it was at git revision `rev`, loaded as a
    module named `name` whose imports resolve to today's modules: the "before" of a bench
    that times before and after in the same interleaved rounds."""
    import types

    repo = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "-C", str(repo), "show", f"{rev}:{rel}"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType(name)
    exec(compile(source, f"{rev}:{rel}", "exec"), module.__dict__)
    return module

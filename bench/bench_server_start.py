"""Server start-up: wall time from spawning `python -m acontext_mcp serve` to its first
`tools/list` answer over stdio, and the size of that answer.

Each run uses a fresh ACONTEXT_HOME and bare pipes (legacy handshake: initialize, then
tools/list). For context, the same interpreter is timed from spawn to exit for `python -c pass`
and `python -c "import mcp"`. Prints medians of the runs and ratios to those baselines.

    python bench/bench_server_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import RawServer, median


def time_command(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": "/usr/bin:/bin"})
    return time.perf_counter() - started


def time_server() -> tuple[float, bytes]:
    """Seconds from spawn to the tools/list answer, and that answer's JSON-RPC line."""
    with tempfile.TemporaryDirectory(prefix="acontext-bench-") as tmp:
        server = RawServer(Path(tmp) / "home")
        try:
            server.initialize()
            server.request("tools/list")
            seconds = time.perf_counter() - server.started
            return seconds, server.last_line
        finally:
            server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per measurement (>= 7)")
    args = parser.parse_args()

    time_command("pass")  # warm the page cache for the interpreter and packages
    time_server()
    passes: list[float] = []
    imports: list[float] = []
    servers: list[float] = []
    for _ in range(args.runs):  # interleaved, so load from elsewhere hits all three alike
        passes.append(time_command("pass"))
        imports.append(time_command("import mcp"))
        seconds, line = time_server()
        servers.append(seconds)
    bare, mcp_only, serve = median(passes), median(imports), median(servers)

    print(f"python {sys.version.split()[0]}, median and min of {args.runs} interleaved runs\n")
    print(f"{'':44} {'ms':>7} {'min':>7}")
    rows = [
        ("python -c pass", bare, min(passes)),
        ('python -c "import mcp"', mcp_only, min(imports)),
        ("serve: spawn -> first tools/list answer", serve, min(servers)),
    ]
    for label, mid, low in rows:
        print(f"{label:44} {mid * 1000:7.0f} {low * 1000:7.0f}")
    print(f"\nserve vs python -c pass:       {serve / bare:5.1f}x")
    print(f'serve vs python -c "import mcp": {serve / mcp_only:5.1f}x')
    print("(the baselines include interpreter shutdown; the server is timed to its answer)")

    wire = line.rstrip(b"\n")
    tools = json.loads(wire)["result"]["tools"]
    compact = json.dumps(tools, separators=(",", ":"), ensure_ascii=False).encode()
    print(f"\ntools/list answer: {len(tools)} tools")
    print(f"  JSON-RPC line as sent:   {len(wire):6,} bytes  ~{len(wire) / 4:5,.0f} tokens")
    print(f"  tools array, compact:    {len(compact):6,} bytes  ~{len(compact) / 4:5,.0f} tokens")
    print("  (tokens estimated as bytes / 4, not counted with a tokenizer)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

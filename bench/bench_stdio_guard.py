"""What the stdio guard (`acontext_mcp.stdio_guard.check_line`) costs per request line.

The guard parses each line with the SDK's own parser before the SDK parses it again, so a good
line is parsed twice. Timed in-process for (a) one `store_turn` call with one realistic turn
(~6 KB), (b) one `store_turn` call with 600 turns (~4 MB), against the SDK's parse alone
(`jsonrpc_message_adapter.validate_json`, the baseline); and how long rejecting a hostile line
takes: (c) 100,000 levels deep, (d) a lone surrogate in a 4 MB line. Prints the median of the
runs in milliseconds and the guard's overhead as a ratio to the baseline.

    python bench/bench_stdio_guard.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable

import mcp_types as types
from _support import median, openai_turn

from acontext_mcp.stdio_guard import Rejected, check_line


def call_line(turns: int, rng: random.Random) -> bytes:
    messages = [m for i in range(turns) for m in openai_turn(i, rng)]
    params = {"name": "store_turn", "arguments": {"messages": messages}}
    request = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
    return json.dumps(request).encode()


def timed(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def rejecting(line: bytes) -> Callable[[], None]:
    def run() -> None:
        try:
            check_line(line)
        except Rejected:
            return
        raise AssertionError("expected a rejection")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(10)
    print(f"Python {sys.version.split()[0]}, median of {args.runs} runs")
    for label, line in (("(a) 1 turn", call_line(1, rng)), ("(b) 600 turns", call_line(600, rng))):
        text = line.decode()
        sdk = timed(
            lambda t=text: types.jsonrpc_message_adapter.validate_json(t, by_name=False), args.runs
        )
        guard = timed(lambda raw=line: check_line(raw), args.runs)
        print(
            f"{label:14} {len(line) / 1024:9.1f} KB  SDK parse {sdk:8.3f} ms  "
            f"guard {guard:8.3f} ms  added {guard / sdk:4.2f}x of the SDK parse"
        )
    deep = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' + b"[" * 100_000
    deep += b"]" * 100_000 + b"}}"
    print(f"(c) 100,000 levels deep rejected in {timed(rejecting(deep), args.runs):8.3f} ms")
    surrogate = call_line(600, rng).replace(b'"role": "user"', b'"role": "\\ud800"', 1)
    print(f"(d) lone surrogate, 4 MB, rejected in {timed(rejecting(surrogate), args.runs):8.3f} ms")


if __name__ == "__main__":
    main()

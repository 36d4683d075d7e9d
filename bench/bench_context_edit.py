"""What context editing on read costs: loading o200k_base, and a 500-message page read plain,
counted (`edits=[]`), and edited by all four strategies.

The tokenizer loads once per process: its load is timed in a fresh child interpreter per
round. The reads run in this process on one data home (125 turns of user, assistant tool call,
tool result, assistant; 1-2 KB a message), after one warm-up read; medians of `--rounds`.

    python bench/bench_context_edit.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from _support import median, turns

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import read_messages, store_turn

EDITS = [
    {"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 5}},
    {"type": "remove_tool_call_params", "params": {"keep_recent_n_tool_calls": 5}},
    {"type": "middle_out", "params": {"token_reduce_to": 120_000}},
    {"type": "token_limit", "params": {"limit_tokens": 60_000}},
]
_LOAD = (
    "import time; t = time.perf_counter()\n"
    "from acontext_mcp.context.tokens import counter; c = counter()\n"
    "print(time.perf_counter() - t, c.name)\n"
)


def load_times(rounds: int) -> tuple[list[float], str]:
    times, name = [], ""
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True
        ).stdout.split(maxsplit=1)
        times.append(float(out[0]))
        name = out[1].strip()
    return times, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    loads, name = load_times(args.rounds)
    print(f"counter: {name}")
    print(f"load in a fresh process: {median(loads) * 1000:.0f} ms (median of {args.rounds})")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        with closing(open_db(settings)) as conn:
            for turn in turns(125):
                store_turn(conn, settings, turn, session_id="bench")
            cases = {"plain": None, "counted (edits=[])": [], "four strategies": EDITS}
            for label, edits in cases.items():
                read_messages(conn, settings, "bench", limit=500, edits=edits)  # warm-up
                times = []
                for _ in range(args.rounds):
                    start = time.perf_counter()
                    page = read_messages(conn, settings, "bench", limit=500, edits=edits)
                    times.append(time.perf_counter() - start)
                edited = page.get("edited") or {}
                tokens = (
                    f"  {edited['tokens_before']:,} -> {edited['tokens_after']:,} tokens, "
                    f"{len(page['messages'])} messages"
                    if edited
                    else f"  {len(page['messages'])} messages"
                )
                print(f"500-message read, {label:<20} {median(times) * 1000:7.1f} ms{tokens}")


if __name__ == "__main__":
    main()

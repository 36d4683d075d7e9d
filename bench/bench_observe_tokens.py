"""Task extraction cost: tokens sent to the model per 100 captured messages, by session length.

A session of N messages is captured from real Claude Code transcript lines
(tests/fixtures/claude_code/multi_turn.jsonl repeated with fresh ids by synth.py, through
`capture_transcript`, as the hooks store them), then `extract_tasks` runs batch after batch
until nothing is pending. The model is an in-process fake (tests/support/fake_provider.py)
that behaves like a tidy real one: for each user prompt in a batch it closes the running task
as success, inserts a task in the user's words, links the batch and adds one progress line;
with `--rounds 1` it calls finish in the same turn (what the prompt asks for), with 2 in a
second turn that resends everything (what a less tidy model does); both by default. Tokens are
estimated as characters / 4 of everything a provider would send per request: the system
prompt, the messages (prompt, earlier rounds, tool results) and the tool schemas.

Reported per session length: batches, requests, tokens per 100 messages, the first and the
last request's size (how the prompt grows as the task list does), median of `--runs` runs.

    python bench/bench_observe_tokens.py [--sizes 100 500 2000] [--runs 3] [--batch 16]
        [--rounds 1 2]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "claude_code"))
sys.path.insert(0, str(REPO / "tests"))

from support.fake_provider import FakeProvider, call, request_chars, tools  # noqa: E402
from synth import fixture_lines, fresh_copy  # noqa: E402

from acontext_mcp.capture.claude_code import capture_transcript  # noqa: E402
from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.llm import Reply  # noqa: E402
from acontext_mcp.observe.task_agent import extract_tasks  # noqa: E402
from acontext_mcp.store.db import open_db  # noqa: E402

_USER = re.compile(r"^\[(\d+)\] user: (.*)$", re.M)
_TASK = re.compile(r"^Task (\d+) \[(\w+)\]", re.M)


def tidy_model(rounds: int) -> Any:
    """A fake model's answer function (see the module docstring)."""

    def answer(request: dict[str, Any]) -> Reply:
        convo = request["messages"]
        if len(convo) > 1:  # a later round: the work is done
            return tools(call("finish"))
        prompt = convo[0]["parts"][0]["text"]
        listing, _, batch = prompt.partition("## New messages")
        tasks = [(int(o), s) for o, s in _TASK.findall(listing)]
        last = max((o for o, _ in tasks), default=0)
        running = [o for o, s in tasks if s == "running"]
        size = len(re.findall(r"^\[\d+\] ", batch, re.M))
        calls = []
        for index, text in _USER.findall(batch):
            for order in running:
                calls.append(call("update_task", order=order, status="success"))
            last += 1
            calls.append(call("insert_task", after_order=last - 1, description=text[:120]))
            calls.append(call("link_messages", order=last, message_ids=[int(index)]))
            running = [last]
        if running and size:
            calls.append(call("link_messages", order=running[0], message_ids=list(range(size))))
            calls.append(
                call(
                    "append_progress",
                    order=running[0],
                    progress="I edited src/app.py and ran pytest -q: 12 passed.",
                )
            )
        if rounds == 1 or not calls:
            calls.append(call("finish"))
        return tools(*calls)

    return answer


def build_session(root: Path, size: int) -> tuple[Settings, Any]:
    settings = Settings(home=root / "home", skills_dir=root / "skills")
    settings.ensure_dirs()
    conn = open_db(settings)
    path = root / "session.jsonl"
    base = fixture_lines()
    with path.open("w", encoding="utf-8") as fh:
        while True:
            fh.writelines(fresh_copy(base))
            fh.flush()
            capture_transcript(conn, settings, session_id="bench", transcript_path=path, final=True)
            count = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            if count >= size:
                break
    # Exactly `size` messages: the rest never reach the task agent.
    conn.execute("DELETE FROM messages WHERE position >= ?", (size,))
    return settings, conn


def run_once(size: int, batch: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings, conn = build_session(Path(tmp), size)
        model = FakeProvider(exhausted=tidy_model(rounds))
        batches = 0
        while extract_tasks(conn, settings, model, "bench", batch=batch)["messages"]:
            batches += 1
        tasks = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        conn.close()
    sizes = [request_chars(r) / 4 for r in model.requests]
    firsts = [request_chars(r) / 4 for r in model.requests if len(r["messages"]) == 1]
    return {
        "batches": batches,
        "requests": len(model.requests),
        "tasks": tasks,
        "total": sum(sizes),
        "per100": sum(sizes) / size * 100,
        "first": firsts[0],
        "last": firsts[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, choices=(1, 2), nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"batch {args.batch}, median of {args.runs} runs; tokens = characters sent / 4")
    header = (
        f"{'rounds':>6} {'messages':>8} {'batches':>7} {'requests':>8} {'tasks':>5} "
        f"{'tokens in':>10} {'per 100 msgs':>12} {'1st request':>11} {'last request':>12}"
    )
    print("\n" + header)
    print("-" * len(header))
    for rounds in args.rounds:
        for size in args.sizes:
            runs = [run_once(size, args.batch, rounds) for _ in range(args.runs)]

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            print(
                f"{rounds:>6} {size:>8} {med('batches'):>7.0f} {med('requests'):>8.0f} "
                f"{med('tasks'):>5.0f} {med('total'):>10,.0f} {med('per100'):>12,.0f} "
                f"{med('first'):>11,.0f} {med('last'):>12,.0f}"
            )
    print(
        "\n1st/last request: the opening request of the first and the last batch; the "
        "difference is the task list the prompt carries (bounded at 3,000 characters)."
    )


if __name__ == "__main__":
    main()

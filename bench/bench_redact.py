"""Benchmark secret redaction: µs per KB of typical transcript text, with and without secrets.

Text is a deterministic mix like an agent transcript: prose, Python source, shell output and
JSON tool arguments. "with secrets" plants one credential (provider token, env assignment,
bearer header, URL password, JWT...) about every 2 KB. Each figure is the median of N runs of
`redact_text` over the whole text, plus `redact_message` over 4-part messages of the same text
(fresh interpreter, first call untimed so the patterns are compiled).

    python bench/bench_redact.py [--kb 256] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import time

from _support import code, prose

from acontext_mcp.capture.redact import redact_message, redact_text

_SHELL = [
    "$ git status --short",
    " M acontext_mcp/store/messages.py",
    "?? tests/test_capture_privacy.py",
    "$ pytest -q tests/test_store_db.py",
    "........................................ [100%]",
    "40 passed in 1.92s",
    "$ ls -la ~/.config/app",
    "drwx------  4 dev dev 4096 Jan  5 10:00 .",
    "-rw-r--r--  1 dev dev  812 Jan  5 09:58 settings.toml",
]


def _rand(rng: random.Random, n: int) -> str:
    return "Qk7" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n - 3))


def _secret(rng: random.Random) -> str:
    pick = rng.randrange(6)
    if pick == 0:
        return "export OPENAI_API_KEY=sk-proj-" + _rand(rng, 120)
    if pick == 1:
        return "git remote add origin https://gh" + "p_" + _rand(rng, 36) + "@github.com/o/r.git"
    if pick == 2:
        return 'curl -H "Authorization: Bearer ' + _rand(rng, 40) + '" https://api.example.com'
    if pick == 3:
        return "DATABASE_URL=postgres://app:" + _rand(rng, 16) + "@db:5432/app"
    if pick == 4:
        return "DB_PASSWORD=" + _rand(rng, 14)
    return "AWS_SECRET_ACCESS_KEY=" + _rand(rng, 40)


def transcript(rng: random.Random, size: int, secrets: bool) -> str:
    chunks: list[str] = []
    total = 0
    while total < size:
        kind = rng.randrange(4)
        if kind == 0:
            chunk = prose(rng, 600)
        elif kind == 1:
            chunk = code(rng, 600)
        elif kind == 2:
            chunk = "\n".join(rng.choice(_SHELL) for _ in range(12))
        else:
            chunk = json.dumps({"path": "src/app.py", "old": code(rng, 250), "new": code(rng, 250)})
        if secrets and rng.random() < 0.33:
            chunk += "\n" + _secret(rng)
        chunks.append(chunk)
        total += len(chunk) + 2
    return "\n\n".join(chunks)


def _messages(text: str) -> list[dict]:
    pieces = [text[i : i + 4096] for i in range(0, len(text), 4096)]
    messages = []
    for i in range(0, len(pieces) - 3, 4):
        a, b, c, d = pieces[i : i + 4]
        messages.append(
            {
                "role": "assistant",
                "parts": [
                    {"type": "text", "text": a},
                    {
                        "type": "tool-call",
                        "id": "c",
                        "name": "bash",
                        "arguments": json.dumps({"command": b}),
                    },
                    {
                        "type": "tool-result",
                        "tool_call_id": "c",
                        "content": [{"type": "text", "text": c}],
                    },
                    {"type": "thinking", "text": d},
                ],
            }
        )
    return messages


def _median_us_per_kb(fn, arg, kb: float, runs: int) -> float:
    fn(arg)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / kb * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; {args.kb} KB of text; median of {args.runs} runs")
    for secrets in (False, True):
        text = transcript(random.Random(7), args.kb * 1024, secrets)
        kb = len(text.encode()) / 1024
        _, counts = redact_text(text)
        per_text = _median_us_per_kb(redact_text, text, kb, args.runs)
        messages = _messages(text)
        msg_kb = sum(len(json.dumps(m)) for m in messages) / 1024
        per_msg = _median_us_per_kb(
            lambda ms: [redact_message(m) for m in ms], messages, msg_kb, args.runs
        )
        label = "with secrets   " if secrets else "without secrets"
        print(
            f"{label}: redact_text {per_text:6.1f} µs/KB | redact_message {per_msg:6.1f} µs/KB"
            f" | {sum(counts.values())} redactions ({kb:.0f} KB)"
        )


if __name__ == "__main__":
    main()

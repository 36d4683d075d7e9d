"""Benchmark secret redaction: recall per kind, false-positive lines, and throughput.

Recall: the secret corpus (tests/fixtures/redaction/secrets.jsonl, each row in its own
channel, in tool-call arguments, in a tool result and in base64; see
tests/support/redaction_corpus.py): how many of each kind vanish under their placeholder.
False positives: the lines of ordinary files (this project, the standard library, SDK
sources, RECORD hash lists, CA certificates, generated lockfile/hash/UUID/SSH key lines)
that redaction changes, listed.

Throughput: text is a deterministic mix like an agent transcript: prose, Python source,
shell output and JSON tool arguments. "with secrets" plants one credential (provider token,
env assignment, bearer header, URL password, JWT...) about every 2 KB. Each figure is the
median of N runs of `redact_text` over the whole text, plus `redact_message` over 4-part
messages of the same text (first call untimed so the patterns are compiled).

`--baseline REF` loads redact.py as it is at a git ref (default: main) and reports its
recall, false positives and speed beside the working tree's; runs alternate between the
two, and time is the process's CPU time, so other processes on a busy machine count less.

    python bench/bench_redact.py [--kb 256] [--runs 15] [--baseline main] [--fp-lines N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path

from _support import code, prose

from acontext_mcp.privacy import redact as current

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.redaction_corpus import (  # noqa: E402
    false_positive_lines,
    false_positive_sources,
    secret_cases,
)

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


def _baseline(ref: str) -> types.ModuleType | None:
    """redact.py as it is at git ref `ref`, as a module, or None when git cannot show it."""
    source = None
    for path in ("acontext_mcp/privacy/redact.py", "acontext_mcp/capture/redact.py"):  # new, old
        try:
            source = subprocess.run(
                ["git", "show", f"{ref}:{path}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            break
        except (OSError, subprocess.CalledProcessError):
            continue
    if source is None:
        return None
    module = types.ModuleType("baseline_redact")
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    exec(compile(source, f"{ref}:redact.py", "exec"), module.__dict__)
    return module


def _recall(modules: dict[str, types.ModuleType]) -> None:
    cases = secret_cases()
    caught = {name: Counter() for name in modules}
    missed: dict[str, list[str]] = {name: [] for name in modules}
    total: Counter[str] = Counter(c.kind for c in cases)
    for case in cases:
        for name, module in modules.items():
            ok, why = case.caught(module)
            caught[name][case.kind] += ok
            if not ok:
                missed[name].append(f"{case.id}: {why[:150]}")
    names = list(modules)
    print(f"\nrecall per kind ({len(cases)} cases, {len(total)} kinds):")
    print(f"  {'kind':24}" + "".join(f"{n:>14}" for n in names))
    for kind in sorted(total):
        cells = "".join(f"{caught[n][kind]:>8}/{total[kind]:<5}" for n in names)
        print(f"  {kind:24}{cells}")
    cells = "".join(f"{sum(caught[n].values()):>8}/{len(cases):<5}" for n in names)
    print(f"  {'all':24}{cells}")
    print(f"  missed by {names[0]}: {len(missed[names[0]])}")
    for line in missed[names[0]]:
        print(f"    {line}")


def _false_positives(modules: dict[str, types.ModuleType], max_lines: int | None) -> None:
    for name, module in modules.items():
        total, hits = false_positive_lines(false_positive_sources(max_lines), module)
        print(f"\nfalse positives ({name}): {len(hits)} of {total} lines changed")
        for hit in hits:
            print(f"    {hit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline", default="main", help="git ref to compare with ('' for none)")
    parser.add_argument(
        "--fp-lines", type=int, default=None, help="stop reading ordinary files after N lines"
    )
    args = parser.parse_args()
    modules: dict[str, types.ModuleType] = {"working tree": current}
    base = _baseline(args.baseline) if args.baseline else None
    if base is not None:
        modules[f"baseline {args.baseline}"] = base
    _recall(modules)
    _false_positives(modules, args.fp_lines)

    print(f"\npython {sys.version.split()[0]}; {args.kb} KB of text; median of {args.runs} runs")
    for secrets in (False, True):
        text = transcript(random.Random(7), args.kb * 1024, secrets)
        kb = len(text.encode()) / 1024
        messages = _messages(text)
        msg_kb = sum(len(json.dumps(m)) for m in messages) / 1024
        timed: dict[str, tuple[float, float]] = {}
        for module in modules.values():
            module.redact_text(text)  # warm-up: compile the patterns
            [module.redact_message(m) for m in messages]
        per_text: dict[str, list[float]] = {name: [] for name in modules}
        per_msg: dict[str, list[float]] = {name: [] for name in modules}
        for _ in range(args.runs):
            for name, module in modules.items():
                start = time.process_time()
                module.redact_text(text)
                per_text[name].append(time.process_time() - start)
                start = time.process_time()
                for m in messages:
                    module.redact_message(m)
                per_msg[name].append(time.process_time() - start)
        label = "with secrets   " if secrets else "without secrets"
        for name in modules:
            t = statistics.median(per_text[name]) / kb * 1e6
            m = statistics.median(per_msg[name]) / msg_kb * 1e6
            timed[name] = (t, m)
            redactions = sum(modules[name].redact_text(text)[1].values())
            print(
                f"{label} {name:>14}: redact_text {t:6.1f} µs/KB ({1e3 / t:5.1f} MB/s)"
                f" | redact_message {m:6.1f} µs/KB ({1e3 / m:5.1f} MB/s)"
                f" | {redactions} redactions ({kb:.0f} KB)"
            )
        if base is not None:
            (t0, m0), (t1, m1) = timed["working tree"], timed[f"baseline {args.baseline}"]
            print(
                f"{label} ratio working tree / baseline: text {t0 / t1:.2f}, message {m0 / m1:.2f}"
            )


if __name__ == "__main__":
    main()

"""What privacy costs on the capture paths: a hook while capture is off, and store_turn's redaction.

(a) off, first hook: `skip_session` over a synthetic transcript of >= 20 MB never seen before
    (the cursor moves to its end, nothing is stored);
(b) off, next hook: one new turn appended (the fixture's turn with fresh ids), `skip_session`
    timed; beside it, (c) the same turn captured with capture on (`capture_transcript`);
(d) store_turn's redaction: `redact_message` per message over the bench's OpenAI turns.
Medians (and minimum) of `--runs` runs, in-process, against real SQLite files.

    python bench/bench_capture_off.py [--mb 20] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "claude_code"))

from _support import turns  # noqa: E402
from synth import fixture_lines, fresh_copy, write_synthetic  # noqa: E402

from acontext_mcp.capture.claude_code import capture_transcript, skip_session  # noqa: E402
from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.formats import convert  # noqa: E402
from acontext_mcp.privacy.redact import redact_message  # noqa: E402
from acontext_mcp.store.db import open_db  # noqa: E402


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.2f} ms (min {min(values) * 1000:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(home=root / "home", skills_dir=root / "skills")
        settings.ensure_dirs()
        conn = open_db(settings)
        path = root / "t.jsonl"
        write_synthetic(path, int(args.mb * 1_000_000))
        started = time.perf_counter()
        skip_session(conn, session_id="s", transcript_path=path)
        first = (time.perf_counter() - started) * 1000
        print(f"(a) off, first hook over {args.mb:g} MB: {first:.0f} ms")
        timed: dict[str, list[float]] = {"skip": [], "capture": []}
        for _ in range(args.runs):
            for kind in ("skip", "capture"):
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write("".join(fresh_copy(fixture_lines())))
                started = time.perf_counter()
                if kind == "skip":
                    skip_session(conn, session_id="s", transcript_path=path)
                else:
                    capture_transcript(
                        conn, settings, session_id="s", transcript_path=path, final=True
                    )
                timed[kind].append(time.perf_counter() - started)
        conn.close()
    print(f"(b) off, one new turn skipped:  {_ms(timed['skip'])}")
    print(f"(c) on, one new turn captured:  {_ms(timed['capture'])}")
    internal = convert.to_internal([m for t in turns(150) for m in t], "openai")
    per_message: list[float] = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for message in internal:
            redact_message(message)
        per_message.append((time.perf_counter() - started) / len(internal))
    print(
        f"(d) store_turn redaction, {len(internal)} messages: "
        f"median {statistics.median(per_message) * 1e6:.0f} us/message "
        f"(min {min(per_message) * 1e6:.0f})"
    )


if __name__ == "__main__":
    main()

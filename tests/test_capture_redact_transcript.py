"""A <private> span across the content blocks of one Claude Code message, captured for real.

Claude Code writes one transcript line per content block; capture merges the lines of a
message into one, so a span opened in its thinking and closed (or not) in a later block
must hide everything in between in the store (issue 10, item 5).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from acontext_mcp.capture.claude_code import capture_transcript
from acontext_mcp.config import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
sys.path.insert(0, str(FIXTURES))
from synth import fixture_lines  # noqa: E402

THINKING, TEXT = 19, 20  # lines of the first assistant message: thinking, text, two tool uses


def _capture(db: sqlite3.Connection, settings: Settings, tmp_path: Path, lines: list[str]):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    capture_transcript(db, settings, session_id="s", transcript_path=path, final=True)
    row = db.execute(
        "SELECT parts FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = 's') AND role = 'assistant' "
        "ORDER BY position LIMIT 1"
    ).fetchone()
    return json.loads(row["parts"])


def _edit(lines: list[str], index: int, block: str, edit) -> None:
    record = json.loads(lines[index])
    content = record["message"]["content"][0]
    content[block] = edit(content[block])
    lines[index] = json.dumps(record)


def test_a_span_opened_in_thinking_and_closed_in_the_text_hides_what_is_between(
    db: sqlite3.Connection, settings: Settings, tmp_path: Path
) -> None:
    lines = fixture_lines()
    _edit(lines, THINKING, "thinking", lambda t: t + " <private>my home is 12 Elm St")
    _edit(lines, TEXT, "text", lambda t: "door code 4242</private> " + t)
    parts = _capture(db, settings, tmp_path, lines)
    dump = json.dumps(parts)
    assert "Elm St" not in dump and "4242" not in dump
    assert parts[0]["text"].endswith("[private]")
    assert parts[1]["type"] == "text" and parts[1]["text"].startswith(" I will look around")
    assert [p["name"] for p in parts if p["type"] == "tool-call"] == ["Bash", "Write"]


def test_an_unclosed_span_hides_the_rest_of_the_message(
    db: sqlite3.Connection, settings: Settings, tmp_path: Path
) -> None:
    lines = fixture_lines()
    _edit(lines, THINKING, "thinking", lambda t: t + " <private>")
    parts = _capture(db, settings, tmp_path, lines)
    assert [p["type"] for p in parts] == ["thinking", "tool-call", "tool-call"]
    assert "I will look around" not in json.dumps(parts)
    assert all(p["arguments"] in ("{}", {}) for p in parts[1:])  # ids kept, inputs gone

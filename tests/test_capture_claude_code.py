"""Claude Code transcript capture: real transcripts end to end, damage, concurrency, crashes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.capture.claude_code import (
    capture_subagents,
    capture_transcript,
    subagent_session_id,
)
from acontext_mcp.capture.claude_code_lines import skip_type, skip_type_raw
from acontext_mcp.capture.transcript import read_lines
from acontext_mcp.config import Settings
from acontext_mcp.store.events import list_events
from acontext_mcp.store.sessions import get_session

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "claude_code"
sys.path.insert(0, str(FIXTURES))
from synth import fixture_lines, write_synthetic  # noqa: E402

MULTI = FIXTURES / "multi_turn.jsonl"
SUB = FIXTURES / "subagent.jsonl"
AGENT = next((FIXTURES / "subagent" / "subagents").glob("agent-*.jsonl"))


def _capture(db: sqlite3.Connection, settings: Settings, path: Path, sid: str = "s", **kw: Any):
    return capture_transcript(db, settings, session_id=sid, transcript_path=path, **kw)


def _rows(db: sqlite3.Connection, sid: str = "s") -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT position, dedup_key, role, parts, meta FROM messages WHERE "
        "session_seq = (SELECT seq FROM sessions WHERE id = ?) "
        "ORDER BY position",
        (sid,),
    ).fetchall()
    return [
        {**dict(r), "parts": json.loads(r["parts"]), "meta": json.loads(r["meta"])} for r in rows
    ]


def _content(db: sqlite3.Connection, sid: str) -> list[tuple[str, str, Any]]:
    return [(r["dedup_key"], r["role"], r["parts"]) for r in _rows(db, sid)]


def _expected_keys(lines: list[str]) -> list[str]:
    """The oracle: one key per user line (not compaction summaries) and per assistant id."""
    keys: list[str] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("type") == "user" and not record.get("isCompactSummary"):
            keys.append("id:" + record["uuid"])
        elif record.get("type") == "assistant":
            key = "id:" + record["message"]["id"]
            if key not in keys:
                keys.append(key)
    return keys


def _pairs(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    calls = [p["id"] for r in rows for p in r["parts"] if p["type"] == "tool-call"]
    results = [p["tool_call_id"] for r in rows for p in r["parts"] if p["type"] == "tool-result"]
    return calls, results


def _append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(text.encode() if isinstance(text, str) else text)


class TestRealTranscripts:
    @pytest.mark.parametrize("path", [MULTI, SUB, AGENT], ids=["multi_turn", "subagent", "agent"])
    def test_store_holds_exactly_the_conversation(self, db, settings, path: Path) -> None:
        counts = _capture(db, settings, path, final=True)
        rows = _rows(db)
        assert [r["dedup_key"] for r in rows] == _expected_keys(fixture_lines(str(path)))
        assert counts["stored"] == len(rows) and counts["invalid_lines"] == 0
        assert [r["position"] for r in rows] == list(range(len(rows)))
        calls, results = _pairs(rows)
        assert calls and sorted(calls) == sorted(results) and len(set(calls)) == len(calls)
        where = {p["id"]: r["position"] for r in rows for p in r["parts"] if "id" in p}
        for r in rows:
            for p in r["parts"]:
                if p["type"] == "tool-result":
                    assert where[p["tool_call_id"]] < r["position"]  # result after its call
        assert "api-request-shape" in counts["skipped_by_type"]

    def test_capturing_twice_stores_nothing_twice(self, db, settings) -> None:
        first = _capture(db, settings, MULTI, final=True)
        second = _capture(db, settings, MULTI, final=True)
        assert first["stored"] == 15 and first["events"] == 2
        assert second["stored"] == second["events"] == 0 and second["cursor"] == first["cursor"]
        db.execute("DELETE FROM cursors")  # forget the cursor: the store still dedups
        third = _capture(db, settings, MULTI, final=True)
        assert third["stored"] == third["events"] == 0 and third["duplicates"] == 17
        assert len(_rows(db)) == 15 and len(list_events(db, "s")) == 2

    def test_parallel_blocks_merge_into_one_message_in_file_order(self, db, settings) -> None:
        _capture(db, settings, MULTI, final=True)
        first = _rows(db)[1]
        assert [p["type"] for p in first["parts"]] == ["thinking", "text", "tool-call", "tool-call"]
        assert [p["name"] for p in first["parts"][2:]] == ["Bash", "Write"]
        assert len(first["meta"]["uuids"]) == 4 and first["meta"]["stop_reason"] == "tool_use"
        failing = [p for r in _rows(db) for p in r["parts"] if p.get("is_error")]
        assert len(failing) == 1 and "Exit code 1" in json.dumps(failing[0])

    def test_meta_and_kinds(self, db, settings) -> None:
        _capture(db, settings, SUB, final=True)
        rows = _rows(db)
        kinds = [r["meta"].get("kind") for r in rows if r["role"] == "user"]
        assert kinds == ["prompt", "tool_result", "meta", "meta"]
        assert "<task-notification>" in rows[5]["parts"][0]["text"]
        meta = rows[0]["meta"]
        assert meta["version"] == "2.1.330" and meta["cwd"] == "/tmp/cc-fixture-project"
        assert {"uuid", "timestamp", "gitBranch"} <= set(meta) and meta["isSidechain"] is False
        session = get_session(db, "s")
        assert session["agent"] == "claude-code"
        assert session["project_dir"] == "/tmp/cc-fixture-project"

    def test_compaction_becomes_events_not_user_messages(self, db, settings) -> None:
        _capture(db, settings, MULTI, final=True)
        events = list_events(db, "s")
        assert [e["type"] for e in events] == ["compaction", "compact_summary"]
        assert events[0]["data"]["trigger"] == "manual" and events[0]["data"]["preTokens"] == 15
        assert events[1]["data"]["text"].startswith("This session is being continued")
        assert events[0]["data"]["position"] == 12  # before the /compact command lines
        texts = [p.get("text", "") for r in _rows(db) for p in r["parts"]]
        assert not any("This session is being continued" in t for t in texts)
        kinds = [r["meta"].get("kind") for r in _rows(db)[12:]]
        assert kinds == ["meta", "command", "meta"]


class TestSubagents:
    def test_subagent_files_are_linked_to_the_parent(self, db, settings, tmp_path) -> None:
        sid = "2d776706-df57-46a8-a7d0-ccc9bdce23ff"
        shutil.copy(SUB, tmp_path / f"{sid}.jsonl")
        shutil.copytree(FIXTURES / "subagent", tmp_path / sid)
        _capture(db, settings, tmp_path / f"{sid}.jsonl", sid=sid, final=True)
        results = capture_subagents(
            db, settings, session_id=sid, transcript_path=tmp_path / f"{sid}.jsonl", final=True
        )
        agent_id = AGENT.stem.removeprefix("agent-")
        child = subagent_session_id(sid, agent_id)
        assert list(results) == [child] and results[child]["stored"] == 4
        assert get_session(db, child)["parent_id"] == sid
        rows = _rows(db, child)
        assert all(r["meta"]["isSidechain"] and r["meta"]["agentId"] == agent_id for r in rows)
        again = capture_subagents(
            db,
            settings,
            session_id=sid,
            transcript_path=tmp_path / "x.jsonl",
            agent_transcript_path=tmp_path / sid / "subagents" / AGENT.name,
            final=True,
        )
        assert again[child]["stored"] == 0 and len(_rows(db, child)) == 4

    def test_parent_session_is_created_when_the_child_comes_first(self, db, settings) -> None:
        _capture(db, settings, AGENT, sid="p:agent-x", parent_session_id="p", final=True)
        assert get_session(db, "p:agent-x")["parent_id"] == "p"
        assert get_session(db, "p")["agent"] == "claude-code"


class TestGrowth:
    def test_growing_assistant_message_is_held_then_stored_whole(self, db, settings, tmp_path):
        lines = fixture_lines()
        path = tmp_path / "t.jsonl"
        path.write_text("".join(lines[:21]))  # prompt ... the thinking and text blocks
        held = _capture(db, settings, path)
        assert held["pending"] and [r["role"] for r in _rows(db)] == ["user"]
        _append(path, "".join(lines[21:23]))  # both tool_use blocks, then bookkeeping
        still = _capture(db, settings, path)
        assert still["pending"] and still["stored"] == 0
        _append(path, "".join(lines[23:28]))  # tool results of its own calls: still open
        assert _capture(db, settings, path)["pending"]
        _append(path, "".join(lines[28:33]))  # the next assistant message starts
        done = _capture(db, settings, path)
        assert done["stored"] == 3  # the 4-block message and its two results
        assert [p["type"] for p in _rows(db)[1]["parts"]] == [
            "thinking",
            "text",
            "tool-call",
            "tool-call",
        ]

    def test_final_flushes_the_trailing_message(self, db, settings, tmp_path) -> None:
        path = tmp_path / "t.jsonl"
        path.write_text("".join(fixture_lines()[:39]))  # ends with the turn's last text
        assert _capture(db, settings, path)["pending"]
        flushed = _capture(db, settings, path, final=True)
        assert not flushed["pending"] and flushed["stored"] == 1

    def test_line_by_line_growth_equals_one_shot(self, db, settings, tmp_path) -> None:
        lines = fixture_lines()
        path = tmp_path / "t.jsonl"
        path.write_text("")
        for line in lines:  # every line arrives in two writes, with a capture after each
            half = len(line) // 2
            for piece in (line[:half], line[half:]):
                _append(path, piece)
                _capture(db, settings, path)
        _capture(db, settings, path, final=True)
        _capture(db, settings, MULTI, sid="ref", final=True)
        assert _content(db, "s") == _content(db, "ref")
        assert len(list_events(db, "s")) == 2


class TestDamage:
    def test_truncated_file_resets_without_duplicates(self, db, settings, tmp_path) -> None:
        lines = fixture_lines()
        path = tmp_path / "t.jsonl"
        path.write_text("".join(lines))
        _capture(db, settings, path, final=True)
        path.write_text("".join(lines[:30]))  # same inode, shorter
        cut = _capture(db, settings, path, final=True)
        assert cut["reset"] and cut["stored"] == 0 and cut["duplicates"] > 0
        _append(path, "".join(lines[30:]))
        assert _capture(db, settings, path, final=True)["stored"] == 0
        assert len(_rows(db)) == 15

    def test_file_replaced_at_the_same_path(self, db, settings, tmp_path) -> None:
        path = tmp_path / "t.jsonl"
        shutil.copy(MULTI, path)
        _capture(db, settings, path, final=True)
        other = tmp_path / "other.jsonl"
        shutil.copy(SUB, other)
        os.replace(other, path)
        counts = _capture(db, settings, path, final=True)
        assert counts["reset"] and counts["stored"] == 7
        expected = _expected_keys(fixture_lines()) + _expected_keys(fixture_lines(str(SUB)))
        assert [r["dedup_key"] for r in _rows(db)] == expected

    def test_unknown_types_and_invalid_json_are_counted(self, db, settings, tmp_path) -> None:
        lines = fixture_lines()
        path = tmp_path / "t.jsonl"
        odd = [
            '{"type": "brand-new-thing", "uuid": "n1"}\n',
            '{"no": "type"}\n',
            '{"type": "system", "subtype": "api_error", "level": "error"}\n',
            '{"type": "user", "message": "not an object"}\n',
            '{"type": "assistant", "message": {"id": "msg_x", "content": [{"type": 5}]}}\n',
            "{not json at all\n",
        ]
        path.write_text("".join(lines[:3] + odd + lines[3:]))
        counts = _capture(db, settings, path, final=True)
        skipped = counts["skipped_by_type"]
        assert skipped["brand-new-thing"] == 1 and skipped["(no type)"] == 1
        assert skipped["system:api_error"] == 1 and skipped["user"] == 1
        assert counts["invalid_lines"] == 1 and counts["invalid_messages"] == 1
        assert counts["stored"] == 15
        again = _capture(db, settings, path, final=True)  # counted once: the cursor moved
        assert again["invalid_lines"] == 0 and again["skipped_by_type"] == {}

    def test_invalid_utf8_is_stored_with_replacement(self, db, settings, tmp_path) -> None:
        path = tmp_path / "t.jsonl"
        prompt = json.loads(fixture_lines()[2])
        prompt["message"]["content"] = "PLACEHOLDER"
        raw = json.dumps(prompt).encode().replace(b"PLACEHOLDER", b"caf\xe9 \xff bytes")
        path.write_bytes(raw + b"\n")
        assert _capture(db, settings, path, final=True)["stored"] == 1
        assert _rows(db)[0]["parts"][0]["text"] == "caf\ufffd \ufffd bytes"

    def test_ten_megabyte_lines(self, db, settings, tmp_path) -> None:
        lines = fixture_lines()
        shape = '{"type": "api-request-shape", "body": "' + "s" * 10_000_000 + '"}\n'
        result = json.loads(lines[26])  # a tool_result line
        result["message"]["content"][0]["content"] = "r" * 10_000_000
        path = tmp_path / "t.jsonl"
        path.write_text("".join([*lines[:26], shape, json.dumps(result) + "\n", *lines[27:]]))
        counts = _capture(db, settings, path, final=True, read_limit=1_000_000)
        assert counts["stored"] == 15 and counts["skipped_by_type"]["api-request-shape"] == 2
        big = _rows(db)[2]
        assert big["meta"]["clipped"] is True and big["parts"][0]["type"] == "tool-result"
        calls, results = _pairs(_rows(db))
        assert sorted(calls) == sorted(results)  # pairing survives clipping


# --- Processes ---

WORKER = """
import os, sys, time
from acontext_mcp.capture.claude_code import capture_transcript
from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
path, done, sid, limit, final = sys.argv[1:6]
settings = Settings.from_env()
conn = open_db(settings)
while True:
    finished = os.path.exists(done)
    capture_transcript(conn, settings, session_id=sid, transcript_path=path,
                       read_limit=int(limit), final=final == "1")
    if finished or done == "-":
        break
    time.sleep(0.002)
"""

APPENDER = """
import sys, time
source, path, done = sys.argv[1:4]
with open(source, "rb") as src, open(path, "ab", buffering=0) as out:
    for line in src:
        half = len(line) // 2
        out.write(line[:half]); time.sleep(0.001)
        out.write(line[half:]); time.sleep(0.002)
open(done, "w").close()
"""


def _python(code: str, *args: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)])


class TestProcesses:
    def test_eight_writers_on_a_growing_transcript_store_each_message_once(
        self, db, settings, tmp_path
    ) -> None:
        source = tmp_path / "source.jsonl"
        write_synthetic(source, 600_000)
        path, done = tmp_path / "t.jsonl", tmp_path / "done"
        path.write_text("")
        workers = [_python(WORKER, path, done, "conc", 10**8, 0) for _ in range(8)]
        appender = _python(APPENDER, source, path, done)
        assert appender.wait(timeout=60) == 0
        assert all(w.wait(timeout=60) == 0 for w in workers)
        expected = _expected_keys(source.read_text().splitlines())
        assert len(_rows(db, "conc")) == len(expected)  # the workers did it all, no final
        _capture(db, settings, path, sid="conc", final=True)
        _capture(db, settings, source, sid="ref", final=True)
        assert _content(db, "conc") == _content(db, "ref")
        assert [r["dedup_key"] for r in _rows(db, "conc")] == expected
        assert len(list_events(db, "conc")) == len(list_events(db, "ref"))

    def test_killed_capture_loses_nothing_and_doubles_nothing(self, db, settings, tmp_path):
        path = tmp_path / "big.jsonl"
        lines = write_synthetic(path, 8_000_000)
        proc = _python(WORKER, path, "-", "crash", 100_000, 1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # kill once some, not all, work is committed
            if db.execute("SELECT COUNT(*) FROM cursors").fetchone()[0]:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        partial = len(_rows(db, "crash"))
        assert 0 < partial < len(_expected_keys(lines))
        counts = _capture(db, settings, path, sid="crash", final=True)
        assert counts["stored"] == len(_expected_keys(lines)) - partial
        assert [r["dedup_key"] for r in _rows(db, "crash")] == _expected_keys(lines)


class TestRedaction:
    SECRET = "sk-ant-api03-" + "Q" * 80
    TOKEN = "ghp_" + "a1B2" * 9

    def _secret_transcript(self, tmp_path: Path) -> Path:
        lines = fixture_lines()
        lines[2] = lines[2].replace(
            "ALPHA: look around",
            f"ALPHA: use ANTHROPIC_API_KEY={self.SECRET} <private>my home address</private> "
            "and look around",
        )
        lines[26] = lines[26].replace("total 8", f"total 8 token {self.TOKEN}")
        path = tmp_path / "secret.jsonl"
        path.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines))
        return path

    def test_secrets_never_reach_the_store_and_counts_are_recorded(self, db, settings, tmp_path):
        path = self._secret_transcript(tmp_path)
        counts = _capture(db, settings, path, final=True)
        dump = json.dumps(_rows(db))
        assert self.SECRET not in dump and self.TOKEN not in dump
        assert "my home address" not in dump
        assert "ALPHA: use ANTHROPIC_API_KEY=" in dump and "and look around" in dump
        events = [e for e in list_events(db, "s") if e["type"] == "redaction"]
        assert len(events) == 1
        recorded = events[0]["data"]["counts"]
        assert sum(recorded.values()) >= 3 and recorded == counts["redacted"]
        again = _capture(db, settings, path, final=True)
        assert again["stored"] == 0 and again["redacted"] == {}
        assert len([e for e in list_events(db, "s") if e["type"] == "redaction"]) == 1

    def test_envelope_fields_out_of_shape_are_scanned_like_any_text(self, db, settings, tmp_path):
        """Envelope values in their known shape skip the scan; anything else in them does not:
        a secret in cwd, a branch name or a field that should hold a UUID is redacted."""
        record = json.loads(fixture_lines()[2])
        record.update(
            cwd=f"/work/{self.TOKEN}",
            gitBranch=f"fix/{self.SECRET}",
            parentUuid=self.TOKEN,
            version=f"2.1.330 {self.SECRET}",
            timestamp=f"2026-11-23T19:53:14.005Z {self.TOKEN}",
        )
        path = tmp_path / "envelope.jsonl"
        path.write_text(json.dumps(record) + "\n")
        counts = _capture(db, settings, path, final=True)
        (row,) = _rows(db)
        dump = json.dumps(row)
        assert self.SECRET not in dump and self.TOKEN not in dump
        assert sum(counts["redacted"].values()) >= 5
        assert row["meta"]["uuid"] == record["uuid"]  # in shape: kept as written
        assert row["meta"]["promptId"] == record["promptId"]


class TestSkippedUnparsed:
    """Lines capture never stores are recognised from their first bytes, conservatively."""

    @pytest.mark.parametrize("name", ["multi_turn", "subagent", "tasks", "todos"])
    def test_every_line_it_skips_is_of_a_type_never_stored(self, name: str) -> None:
        skipped_bytes = total = 0
        for line in fixture_lines(f"{name}.jsonl"):
            record = json.loads(line)
            total += len(line)
            kind = skip_type(line.rstrip("\n"))
            if kind is not None:
                assert kind == record["type"] and kind not in ("user", "assistant", "system")
                skipped_bytes += len(line)
            elif record["type"] in ("attachment", "api-request-shape"):
                pytest.fail(f"a bulky {record['type']} line is parsed: {line[:120]}")
        assert skipped_bytes > total / 2  # most of a transcript's bytes go unparsed

    @pytest.mark.parametrize(
        "line",
        [
            '{"type":"user","message":{"role":"user","content":"hi"},"uuid":"u1"}',
            '{"type":"assistant","message":{"id":"m","content":[]}}',
            '{"type":"system","subtype":"compact_boundary"}',
            '{"type":"a\\"b","x":1}',
            '{"parentUuid":null,"message":{"attachment":{"type":"attachment"}},"type":"user"}',
            '{"parentUuid":null,"type":"user","attachment":{"a":1},"type":"attachment"}',
            '{"parentUuid":null,"attachment":{"type":"text"},"type":"user"}',
            '{"parentUuid":null,"x":{"y":1},"attachment":{"a":1},"type":"attachment"}',
            '["type","attachment"]',
            "",
        ],
    )
    def test_anything_not_certain_is_parsed(self, line: str) -> None:
        assert skip_type(line) is None

    @pytest.mark.parametrize("name", ["multi_turn", "subagent", "tasks", "todos"])
    def test_the_raw_bytes_check_names_a_type_only_as_the_decoded_check_does(
        self, name: str
    ) -> None:
        """skip_type_raw runs before a line is decoded; whenever it names a type, skip_type on
        the decoded line names the same one, also with non-ASCII and broken UTF-8 spliced in;
        on Claude Code's own skipped lines it answers, so they are never decoded."""
        answered = 0
        for line in fixture_lines(f"{name}.jsonl"):
            raw = line.rstrip("\n").encode()
            for at in (0, 1, 12, 40, len(raw) // 2, len(raw) - 1, len(raw)):
                for splice in (b"", b"\xc3\xa9", b"\xff", b"\xc2\xa0", b"\\", b"{"):
                    variant = raw[:at] + splice + raw[at:]
                    data = b"x\n" + variant + b"\n"
                    kind = skip_type_raw(data, 2, 2 + len(variant))
                    if kind is not None:
                        assert kind == skip_type(variant.decode("utf-8", "replace")), variant
            if skip_type(line.rstrip("\n")) is not None:
                answered += skip_type_raw(raw, 0, len(raw)) is not None
                assert skip_type_raw(raw, 0, len(raw)) == skip_type(line.rstrip("\n"))
        assert answered or name != "multi_turn"

    @pytest.mark.parametrize(
        "line",
        [
            '{"type":"user","message":{"role":"user","content":"hi"},"uuid":"u1"}',
            '{"type":"a\\"b","x":1}',
            '{"type":"caf\u00e9","x":1}',
            '{"cwd":"/tmp/caf\u00e9","attachment":{"a":1},"type":"attachment"}',
            '{"parentUuid":null,"x":{"y":1},"attachment":{"a":1},"type":"attachment"}',
            '{"parentUuid":null,"attachment":{"a":1},"type":"attachment"}\u00a0',
            '{"type":"queue-operation',
        ],
    )
    def test_the_raw_bytes_check_defers_when_not_plain(self, line: str) -> None:
        raw = line.encode()
        assert skip_type_raw(raw, 0, len(raw)) is None

    def test_a_reader_with_skip_keeps_offsets_and_decodes_only_the_rest(self, tmp_path) -> None:
        lines = fixture_lines()
        path = tmp_path / "t.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        plain = read_lines(path)
        fast = read_lines(path, skip=skip_type_raw)
        assert fast.end == plain.end and fast.skipped
        merged = sorted([*zip(fast.starts, fast.lines, strict=True), *fast.skipped])
        for (start, line), (start2, item) in zip(
            zip(plain.starts, plain.lines, strict=True), merged, strict=True
        ):
            assert start == start2
            assert item == line or item == skip_type(line)

    def test_skipped_lines_are_still_counted_by_type(self, db, settings) -> None:
        counts = _capture(db, settings, MULTI, final=True)
        expected: dict[str, int] = {}
        for line in fixture_lines():
            record = json.loads(line)
            if record["type"] not in ("user", "assistant", "system"):
                expected[record["type"]] = expected.get(record["type"], 0) + 1
        skipped = counts["skipped_by_type"]
        assert {k: v for k, v in skipped.items() if not k.startswith("system")} == expected


class TestLateBlocks:
    def test_blocks_arriving_after_a_final_capture_extend_the_same_message(
        self, db, settings, tmp_path
    ):
        lines = fixture_lines()
        ids = [json.loads(x)["message"]["id"] if '"type":"assistant"' in x else None for x in lines]
        mid = next(i for i in ids if i and ids.count(i) >= 4)  # thinking, text, two tool calls
        first = ids.index(mid)
        path = tmp_path / "t.jsonl"
        path.write_text("".join(lines[: first + 2]))  # only thinking and text so far
        _capture(db, settings, path, final=True)
        (partial,) = [r for r in _rows(db) if r["dedup_key"] == "id:" + mid]
        assert [p["type"] for p in partial["parts"]] == ["thinking", "text"]
        _append(path, "".join(lines[first + 2 :]))
        counts = _capture(db, settings, path, final=True)
        assert counts["extended"] == 1
        _capture(db, settings, MULTI, sid="ref", final=True)
        assert _content(db, "s") == _content(db, "ref")
        assert [r["dedup_key"] for r in _rows(db)] == _expected_keys(lines)

"""The whole-line reader: partial lines wait, replaced or truncated files reset, never fatal."""

from __future__ import annotations

import json
import os
from pathlib import Path

from acontext_mcp.capture.transcript import Cursor, parse_lines, read_lines


def _line(n: int, pad: str = "") -> bytes:
    return (json.dumps({"n": n, "pad": pad}) + "\n").encode()


def _write(path: Path, data: bytes, mode: str = "ab") -> None:
    with open(path, mode) as fh:
        fh.write(data)


class TestWholeLines:
    def test_reads_complete_lines_and_moves_the_cursor(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1) + _line(2))
        chunk = read_lines(path)
        assert [json.loads(x)["n"] for x in chunk.lines] == [1, 2]
        assert chunk.starts == [0, len(_line(1))]
        assert chunk.cursor.offset == path.stat().st_size == chunk.end
        assert not chunk.reset and not chunk.more

    def test_partial_last_line_waits_until_completed(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        whole = _line(2)
        _write(path, _line(1) + whole[:5])
        first = read_lines(path)
        assert len(first.lines) == 1 and first.cursor.offset == len(_line(1))
        again = read_lines(path, first.cursor)
        assert again.lines == [] and again.cursor.offset == first.cursor.offset
        _write(path, whole[5:])
        second = read_lines(path, first.cursor)
        assert [json.loads(x)["n"] for x in second.lines] == [2]
        assert second.starts == [len(_line(1))]

    def test_first_line_still_growing_reads_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, b'{"n": 1')
        chunk = read_lines(path)
        assert chunk.lines == [] and chunk.cursor.offset == 0 and chunk.cursor.head_hash is None

    def test_missing_file_reads_as_empty(self, tmp_path: Path) -> None:
        chunk = read_lines(tmp_path / "nope.jsonl", Cursor(10))
        assert chunk.lines == [] and chunk.cursor.offset == 10 and not chunk.reset

    def test_limit_consumes_a_big_file_in_steps(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, b"".join(_line(i, "x" * 100) for i in range(100)))
        cursor, seen, steps = Cursor(), [], 0
        while True:
            chunk = read_lines(path, cursor, limit=1000)
            seen += [json.loads(x)["n"] for x in chunk.lines]
            cursor, steps = chunk.cursor, steps + 1
            if not chunk.more:
                break
        assert seen == list(range(100)) and steps > 10

    def test_a_line_longer_than_the_limit_is_read_whole(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        big = _line(1, "y" * (10 * 1024 * 1024))
        _write(path, big + _line(2))
        chunk = read_lines(path, limit=64 * 1024)
        assert len(chunk.lines) == 1 and len(chunk.lines[0]) == len(big) - 1
        rest = read_lines(path, chunk.cursor, limit=64 * 1024)
        assert [json.loads(x)["n"] for x in rest.lines] == [2]


class TestDecoding:
    def test_invalid_utf8_is_replaced_not_fatal(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, b'{"text": "caf\xe9 \xff\xfe ok"}\n' + _line(2))
        records, invalid = parse_lines(read_lines(path))
        assert invalid == [] and records[0][1]["text"] == "caf\ufffd \ufffd\ufffd ok"

    def test_invalid_json_and_non_objects_are_reported_by_offset(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1) + b"{broken\n" + b"[1, 2]\n" + b"\n" + _line(4))
        records, invalid = parse_lines(read_lines(path))
        assert [r[1]["n"] for r in records] == [1, 4]
        assert invalid == [len(_line(1)), len(_line(1)) + 8]


class TestIdentity:
    def test_truncated_file_resets_to_zero(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1) + _line(2) + _line(3))
        cursor = read_lines(path).cursor
        os.truncate(path, len(_line(1)))
        chunk = read_lines(path, cursor)
        assert chunk.reset and [json.loads(x)["n"] for x in chunk.lines] == [1]

    def test_rewritten_in_place_with_another_first_line_resets(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1) + _line(2))
        cursor = read_lines(path).cursor
        _write(path, _line(7) + _line(8) + _line(9), mode="r+b")  # same inode, longer
        chunk = read_lines(path, cursor)
        assert chunk.reset and [json.loads(x)["n"] for x in chunk.lines] == [7, 8, 9]

    def test_replaced_by_another_file_resets(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1) + _line(2))
        cursor = read_lines(path).cursor
        other = tmp_path / "other.jsonl"
        _write(other, _line(1) + _line(2) + _line(3))  # same first line, new inode
        os.replace(other, path)
        chunk = read_lines(path, cursor)
        assert chunk.reset and len(chunk.lines) == 3

    def test_cursor_not_on_a_line_boundary_resets(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1) + _line(2))
        good = read_lines(path).cursor
        skewed = Cursor(good.offset - 3, good.dev, good.ino, good.head_hash)
        assert read_lines(path, skewed).reset

    def test_unchanged_file_keeps_its_cursor(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        _write(path, _line(1))
        cursor = read_lines(path).cursor
        _write(path, _line(2))
        chunk = read_lines(path, cursor)
        assert not chunk.reset and chunk.cursor.head_hash == cursor.head_hash

    def test_cursor_round_trips_and_garbage_means_start(self) -> None:
        cursor = Cursor(12, 1, 2, "ab")
        assert Cursor.from_json(json.loads(json.dumps(cursor.to_json()))) == cursor
        assert Cursor.from_json({"offset": -4}) == Cursor()
        assert Cursor.from_json("nonsense") == Cursor()

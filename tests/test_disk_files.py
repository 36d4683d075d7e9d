"""Disk file operations on real files and a real SQLite file, including concurrent writers."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.disk import files
from acontext_mcp.disk.confine import disk_root
from acontext_mcp.disk.walk import TEMP_PREFIX
from acontext_mcp.errors import InvalidInput, NotFound, PathEscape, TooLarge
from acontext_mcp.store.db import atomic, connect

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def root(settings: Settings) -> Path:
    return disk_root(settings, "default")


def row_of(conn: sqlite3.Connection, directory: str, filename: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT a.* FROM artifacts a JOIN disks d ON d.id = a.disk_id "
        "WHERE d.name = 'default' AND a.path = ? AND a.filename = ?",
        (directory, filename),
    ).fetchone()


def all_rows(conn: sqlite3.Connection) -> list[str]:
    return [
        row[0] + row[1]
        for row in conn.execute("SELECT path, filename FROM artifacts ORDER BY path, filename")
    ]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def temp_files(top: Path) -> list[str]:
    return [name for _d, _s, names in os.walk(top) for name in names if TEMP_PREFIX in name]


class TestDisks:
    def test_default_exists_without_being_created(self, conn: sqlite3.Connection) -> None:
        assert [d["name"] for d in files.list_disks(conn)] == ["default"]

    def test_default_works_on_first_use(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        listing = files.list_dir(conn, settings, "default")
        assert listing == {"path": "/", "dirs": [], "files": []}
        assert root.is_dir()

    def test_writing_creates_a_named_disk(
        self, conn: sqlite3.Connection, settings: Settings
    ) -> None:
        files.write_file(conn, settings, "work", "a.md", "x")
        assert (settings.disks_dir / "work" / "a.md").read_text() == "x"
        assert [d["name"] for d in files.list_disks(conn)] == ["default", "work"]
        assert files.ensure_disk(conn, "work") == files.ensure_disk(conn, "work")

    def test_reading_a_missing_disk_is_not_found(
        self, conn: sqlite3.Connection, settings: Settings
    ) -> None:
        with pytest.raises(NotFound, match="disk 'nope' does not exist"):
            files.read_file(conn, settings, "nope", "a.md")
        assert not (settings.disks_dir / "nope").exists()

    def test_a_directory_made_by_hand_is_a_disk(
        self, conn: sqlite3.Connection, settings: Settings
    ) -> None:
        (settings.disks_dir / "copied").mkdir(parents=True)
        (settings.disks_dir / "copied" / "a.md").write_text("hi")
        (settings.disks_dir / "Bad Name").mkdir()
        assert files.read_file(conn, settings, "copied", "a.md")["content"] == "hi"
        names = [d["name"] for d in files.list_disks(conn, settings)]
        assert names == ["copied", "default"]

    def test_invalid_names_are_refused(self, conn: sqlite3.Connection) -> None:
        with pytest.raises(InvalidInput, match="invalid disk name"):
            files.ensure_disk(conn, "../x")


class TestWrite:
    def test_create_then_replace(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        first = files.write_file(conn, settings, "default", "/notes/a.md", "# one\n")
        assert first == {
            "disk": "default",
            "path": "/notes/a.md",
            "size": 6,
            "sha256": sha(b"# one\n"),
            "mime": "text/markdown",
            "created": True,
        }
        assert (root / "notes" / "a.md").read_text() == "# one\n"
        row = row_of(conn, "/notes/", "a.md")
        assert row is not None
        assert (row["size"], row["sha256"], row["mime"]) == (6, sha(b"# one\n"), "text/markdown")

        second = files.write_file(conn, settings, "default", "notes/a.md", b"# two, longer\n")
        assert second["created"] is False
        assert second["sha256"] == sha(b"# two, longer\n")
        assert (root / "notes" / "a.md").read_bytes() == b"# two, longer\n"
        assert row_of(conn, "/notes/", "a.md")["sha256"] == second["sha256"]
        assert all_rows(conn) == ["/notes/a.md"]
        assert temp_files(root) == []

    def test_meta_is_kept_by_a_plain_replace_and_replaced_when_given(
        self, conn: sqlite3.Connection, settings: Settings
    ) -> None:
        files.write_file(conn, settings, "default", "a.md", "1", meta={"tag": "x"})
        files.write_file(conn, settings, "default", "a.md", "2")
        assert files.stat(conn, settings, "default", "a.md")["meta"] == {"tag": "x"}
        files.write_file(conn, settings, "default", "a.md", "3", meta={"other": 1})
        assert files.stat(conn, settings, "default", "a.md")["meta"] == {"other": 1}

    def test_root_and_directories_cannot_be_written(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        with pytest.raises(InvalidInput, match="cannot write to '/'"):
            files.write_file(conn, settings, "default", "/", "x")
        files.write_file(conn, settings, "default", "dir/a.md", "x")
        with pytest.raises(InvalidInput, match="is a directory"):
            files.write_file(conn, settings, "default", "dir", "x")
        with pytest.raises(InvalidInput, match="a file is in the way"):
            files.write_file(conn, settings, "default", "dir/a.md/b.md", "x")
        assert all_rows(conn) == ["/dir/a.md"]

    def test_size_cap(self, conn: sqlite3.Connection, settings: Settings, root: Path) -> None:
        small = settings.replace(max_artifact_bytes=10)
        files.write_file(conn, small, "default", "ok.txt", "x" * 10)
        with pytest.raises(TooLarge) as caught:
            files.write_file(conn, small, "default", "big.txt", "x" * 11)
        message = str(caught.value)
        assert "11 bytes" in message
        assert "10-byte cap" in message
        assert "ACONTEXT_MAX_ARTIFACT_BYTES" in message
        assert not (root / "big.txt").exists()
        assert all_rows(conn) == ["/ok.txt"]
        assert temp_files(root) == []

    def test_size_cap_counts_utf8_bytes(self, conn: sqlite3.Connection, settings: Settings) -> None:
        small = settings.replace(max_artifact_bytes=10)
        with pytest.raises(TooLarge):
            files.write_file(conn, small, "default", "a.txt", "é" * 6)  # 12 bytes

    def test_temp_names_are_reserved(self, conn: sqlite3.Connection, settings: Settings) -> None:
        with pytest.raises(InvalidInput, match="reserved"):
            files.write_file(conn, settings, "default", f"d/{TEMP_PREFIX}x.tmp", "x")
        files.write_file(conn, settings, "default", "a.md", "x")
        with pytest.raises(InvalidInput, match="reserved"):
            files.move(conn, settings, "default", "a.md", f"{TEMP_PREFIX}x.tmp")

    def test_bad_content_and_meta(self, conn: sqlite3.Connection, settings: Settings) -> None:
        with pytest.raises(InvalidInput, match="text or bytes"):
            files.write_file(conn, settings, "default", "a.md", 12)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="JSON"):
            files.write_file(conn, settings, "default", "a.md", "x", meta={"d": object()})
        assert all_rows(conn) == []

    def test_empty_files_are_allowed(self, conn: sqlite3.Connection, settings: Settings) -> None:
        assert files.write_file(conn, settings, "default", "empty.txt", "")["size"] == 0
        read = files.read_file(conn, settings, "default", "empty.txt")
        assert read["content"] == ""
        assert read["total_lines"] == 0

    @pytest.mark.parametrize(
        ("name", "mime"),
        [
            ("a.md", "text/markdown"),
            ("a.py", "text/x-python"),
            ("a.ts", "text/x-typescript"),
            ("a.toml", "text/x-toml"),
            ("a.yaml", "text/x-yaml"),
            ("a.json", "application/json"),
            ("a.png", "image/png"),
            ("Makefile", "text/x-makefile"),
            ("a.unknownext", "application/octet-stream"),
            ("noext", "application/octet-stream"),
        ],
    )
    def test_mime(self, conn: sqlite3.Connection, settings: Settings, name: str, mime: str) -> None:
        assert files.write_file(conn, settings, "default", name, "x")["mime"] == mime


class TestRead:
    TEXT = "one\ntwo\nthree\nfour\nfive\n"

    @pytest.fixture(autouse=True)
    def _five_lines(self, conn: sqlite3.Connection, settings: Settings) -> None:
        files.write_file(conn, settings, "default", "five.txt", self.TEXT)

    def test_whole_file(self, conn: sqlite3.Connection, settings: Settings) -> None:
        read = files.read_file(conn, settings, "default", "/five.txt")
        assert read == {
            "path": "/five.txt",
            "content": self.TEXT,
            "start_line": 1,
            "end_line": 5,
            "total_lines": 5,
            "truncated": False,
        }

    @pytest.mark.parametrize(
        ("offset", "limit", "content", "start", "end", "truncated"),
        [
            (0, 2, "one\ntwo\n", 1, 2, True),
            (1, 2, "two\nthree\n", 2, 3, True),
            (3, 10, "four\nfive\n", 4, 5, False),
            (4, 1, "five\n", 5, 5, False),
            (2, None, "three\nfour\nfive\n", 3, 5, False),
        ],
    )
    def test_ranges(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        offset: int,
        limit: int | None,
        content: str,
        start: int,
        end: int,
        truncated: bool,
    ) -> None:
        read = files.read_file(conn, settings, "default", "five.txt", offset=offset, limit=limit)
        assert (read["content"], read["start_line"], read["end_line"]) == (content, start, end)
        assert read["truncated"] is truncated
        assert read["total_lines"] == 5

    def test_bad_ranges(self, conn: sqlite3.Connection, settings: Settings) -> None:
        with pytest.raises(InvalidInput, match=r"past the end.*5 lines"):
            files.read_file(conn, settings, "default", "five.txt", offset=5)
        with pytest.raises(InvalidInput, match="offset"):
            files.read_file(conn, settings, "default", "five.txt", offset=-1)
        with pytest.raises(InvalidInput, match="limit"):
            files.read_file(conn, settings, "default", "five.txt", limit=0)

    def test_last_line_without_newline_and_crlf(
        self, conn: sqlite3.Connection, settings: Settings
    ) -> None:
        files.write_file(conn, settings, "default", "x.txt", "a\r\nb\r\nc")
        read = files.read_file(conn, settings, "default", "x.txt", offset=1)
        assert read["content"] == "b\r\nc"
        assert (read["start_line"], read["end_line"], read["total_lines"]) == (2, 3, 3)

    def test_default_limit_is_200_lines(self, conn: sqlite3.Connection, settings: Settings) -> None:
        files.write_file(
            conn, settings, "default", "long.txt", "".join(f"{i}\n" for i in range(500))
        )
        read = files.read_file(conn, settings, "default", "long.txt")
        assert (read["end_line"], read["total_lines"], read["truncated"]) == (200, 500, True)

    def test_missing_file_and_directory(self, conn: sqlite3.Connection, settings: Settings) -> None:
        with pytest.raises(NotFound, match="does not exist"):
            files.read_file(conn, settings, "default", "nope.txt")
        files.write_file(conn, settings, "default", "d/a.txt", "x")
        with pytest.raises(InvalidInput, match="is a directory"):
            files.read_file(conn, settings, "default", "d")

    @pytest.mark.parametrize(
        "data", [b"PNG\x00\x01\x02binary", b"caf\xe9 latin-1", b"ok" + b"\x00" * 4]
    )
    def test_binary_is_refused_but_readable_as_bytes(
        self, conn: sqlite3.Connection, settings: Settings, data: bytes
    ) -> None:
        files.write_file(conn, settings, "default", "blob.bin", data)
        with pytest.raises(InvalidInput) as caught:
            files.read_file(conn, settings, "default", "blob.bin")
        assert "binary" in str(caught.value)
        assert f"{len(data)} bytes" in str(caught.value)
        assert "application/octet-stream" in str(caught.value)
        assert files.read_bytes(conn, settings, "default", "blob.bin") == data

    def test_a_file_over_the_cap_copied_in_is_refused(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        (root / "huge.txt").write_text("x" * 100)
        small = settings.replace(max_artifact_bytes=50)
        with pytest.raises(TooLarge, match="100 bytes"):
            files.read_file(conn, small, "default", "huge.txt")

    def test_a_fifo_is_refused_without_hanging(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        os.mkfifo(root / "pipe")
        for call in (files.read_file, files.read_bytes, files.stat):
            with pytest.raises(InvalidInput, match="not a regular file"):
                call(conn, settings, "default", "pipe")
        with pytest.raises(InvalidInput, match="not a regular file"):
            files.update_meta(conn, settings, "default", "pipe", {"a": 1})
        assert files.list_dir(conn, settings, "default")["files"] == [
            {"name": "five.txt", "size": len(self.TEXT), "mime": "text/plain"}
        ]

    def test_reading_through_an_inner_symlink(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        (root / "alias.txt").symlink_to("five.txt")
        read = files.read_file(conn, settings, "default", "alias.txt", limit=1)
        assert read["content"] == "one\n"
        assert read["path"] == "/five.txt"


class TestListDir:
    def test_sorted_dirs_and_files(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        for path in ("b.md", "a.py", "z/x.md", "a-b/x.md", "a/x.md", "a/sub/y.md"):
            files.write_file(conn, settings, "default", path, "12345")
        (root / f"{TEMP_PREFIX}left.tmp").write_text("crash leftover")
        listing = files.list_dir(conn, settings, "default", "/")
        assert listing == {
            "path": "/",
            "dirs": ["a-b/", "a/", "z/"],
            "files": [
                {"name": "a.py", "size": 5, "mime": "text/x-python"},
                {"name": "b.md", "size": 5, "mime": "text/markdown"},
            ],
        }
        assert files.list_dir(conn, settings, "default", "a") == {
            "path": "/a/",
            "dirs": ["sub/"],
            "files": [{"name": "x.md", "size": 5, "mime": "text/markdown"}],
        }

    def test_missing_dir_and_file(self, conn: sqlite3.Connection, settings: Settings) -> None:
        with pytest.raises(NotFound):
            files.list_dir(conn, settings, "default", "/nope")
        files.write_file(conn, settings, "default", "a.md", "x")
        with pytest.raises(InvalidInput, match="is a file"):
            files.list_dir(conn, settings, "default", "a.md")


class TestDelete:
    def test_file(self, conn: sqlite3.Connection, settings: Settings, root: Path) -> None:
        files.write_file(conn, settings, "default", "a.md", "x")
        result = files.delete(conn, settings, "default", "/a.md")
        assert result["deleted"] == "file"
        assert not (root / "a.md").exists()
        assert all_rows(conn) == []
        with pytest.raises(NotFound):
            files.delete(conn, settings, "default", "/a.md")

    def test_directories(self, conn: sqlite3.Connection, settings: Settings, root: Path) -> None:
        (root / "empty").mkdir(parents=True)
        assert files.delete(conn, settings, "default", "empty")["deleted"] == "dir"
        files.write_file(conn, settings, "default", "d/a.md", "x")
        files.write_file(conn, settings, "default", "d/sub/b.md", "x")
        files.write_file(conn, settings, "default", "d2/c.md", "x")
        with pytest.raises(InvalidInput, match="recursive=True"):
            files.delete(conn, settings, "default", "d")
        assert all_rows(conn) == ["/d/a.md", "/d/sub/b.md", "/d2/c.md"]
        result = files.delete(conn, settings, "default", "d", recursive=True)
        assert result == {"disk": "default", "path": "/d/", "deleted": "dir", "files_removed": 2}
        assert not (root / "d").exists()
        assert all_rows(conn) == ["/d2/c.md"]

    def test_root_is_refused(self, conn: sqlite3.Connection, settings: Settings) -> None:
        files.write_file(conn, settings, "default", "a.md", "x")
        with pytest.raises(InvalidInput, match="disk root"):
            files.delete(conn, settings, "default", "/", recursive=True)
        assert all_rows(conn) == ["/a.md"]

    def test_a_symlink_is_removed_not_its_target(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        files.write_file(conn, settings, "default", "real.md", "keep")
        (root / "link.md").symlink_to("real.md")
        files.delete(conn, settings, "default", "link.md")
        assert not (root / "link.md").is_symlink()
        assert (root / "real.md").read_text() == "keep"


class TestMove:
    def test_file_with_its_row_and_meta(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        files.write_file(conn, settings, "default", "a.md", "x", meta={"k": 1})
        result = files.move(conn, settings, "default", "a.md", "/new/dir/b.md")
        assert result == {"disk": "default", "src": "/a.md", "dst": "/new/dir/b.md", "type": "file"}
        assert (root / "new" / "dir" / "b.md").read_text() == "x"
        assert not (root / "a.md").exists()
        assert all_rows(conn) == ["/new/dir/b.md"]
        assert files.stat(conn, settings, "default", "new/dir/b.md")["meta"] == {"k": 1}

    def test_overwrite_is_explicit(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        files.write_file(conn, settings, "default", "a.md", "a")
        files.write_file(conn, settings, "default", "b.md", "b")
        with pytest.raises(InvalidInput, match="overwrite=True"):
            files.move(conn, settings, "default", "a.md", "b.md")
        assert (root / "b.md").read_text() == "b"
        files.move(conn, settings, "default", "a.md", "b.md", overwrite=True)
        assert (root / "b.md").read_text() == "a"
        assert all_rows(conn) == ["/b.md"]
        assert row_of(conn, "/", "b.md")["sha256"] == sha(b"a")

    def test_directory_with_rows_below(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        files.write_file(conn, settings, "default", "d/a.md", "x")
        files.write_file(conn, settings, "default", "d/sub/b.md", "y")
        files.write_file(conn, settings, "default", "dd/c.md", "z")
        result = files.move(conn, settings, "default", "d", "e/f")
        assert result["type"] == "dir"
        assert (root / "e" / "f" / "sub" / "b.md").read_text() == "y"
        assert all_rows(conn) == ["/dd/c.md", "/e/f/a.md", "/e/f/sub/b.md"]

    def test_refusals(self, conn: sqlite3.Connection, settings: Settings) -> None:
        files.write_file(conn, settings, "default", "d/a.md", "x")
        files.write_file(conn, settings, "default", "other/b.md", "x")
        with pytest.raises(InvalidInput, match="into itself"):
            files.move(conn, settings, "default", "d", "d/inner")
        with pytest.raises(InvalidInput, match="existing directory"):
            files.move(conn, settings, "default", "d/a.md", "other", overwrite=True)
        with pytest.raises(InvalidInput, match="with a directory"):
            files.move(conn, settings, "default", "d", "other/b.md", overwrite=True)
        with pytest.raises(InvalidInput, match="disk root"):
            files.move(conn, settings, "default", "/", "x")
        with pytest.raises(NotFound):
            files.move(conn, settings, "default", "missing.md", "x.md")
        with pytest.raises(PathEscape):
            files.move(conn, settings, "default", "d/a.md", "../x.md")
        assert all_rows(conn) == ["/d/a.md", "/other/b.md"]


class TestStatAndMeta:
    def test_stat_file_and_dir(self, conn: sqlite3.Connection, settings: Settings) -> None:
        files.write_file(conn, settings, "default", "d/a.md", "hello", meta={"a": 1})
        info = files.stat(conn, settings, "default", "d/a.md")
        assert info["type"] == "file"
        assert (info["size"], info["sha256"], info["mime"]) == (5, sha(b"hello"), "text/markdown")
        assert info["meta"] == {"a": 1}
        assert info["created_at"] <= info["updated_at"]
        assert files.stat(conn, settings, "default", "d") == {
            "disk": "default",
            "path": "/d/",
            "type": "dir",
        }
        with pytest.raises(NotFound):
            files.stat(conn, settings, "default", "nope")

    def test_merge_and_replace(self, conn: sqlite3.Connection, settings: Settings) -> None:
        files.write_file(conn, settings, "default", "a.md", "x", meta={"a": 1, "b": 2})
        merged = files.update_meta(conn, settings, "default", "a.md", {"b": 3, "c": 4})
        assert merged["meta"] == {"a": 1, "b": 3, "c": 4}
        replaced = files.update_meta(conn, settings, "default", "a.md", {"z": 0}, replace=True)
        assert replaced["meta"] == {"z": 0}
        with pytest.raises(InvalidInput, match="string keys"):
            files.update_meta(conn, settings, "default", "a.md", {1: 2})  # type: ignore[dict-item]
        with pytest.raises(NotFound):
            files.update_meta(conn, settings, "default", "nope.md", {"a": 1})

    def test_rows_are_built_for_files_copied_in(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        (root / "docs").mkdir(parents=True)
        (root / "docs" / "copied.md").write_bytes(b"from outside")
        assert all_rows(conn) == []
        info = files.stat(conn, settings, "default", "docs/copied.md")
        assert info["sha256"] == sha(b"from outside")
        assert all_rows(conn) == ["/docs/copied.md"]
        files.update_meta(conn, settings, "default", "docs/copied.md", {"src": "user"})
        # Edited behind our back: the row follows the file and keeps the user metadata.
        (root / "docs" / "copied.md").write_bytes(b"edited in an editor")
        info = files.stat(conn, settings, "default", "docs/copied.md")
        assert (info["sha256"], info["size"]) == (sha(b"edited in an editor"), 19)
        assert info["meta"] == {"src": "user"}


# --- Concurrency ---

WRITER = """
import sys
from pathlib import Path
from acontext_mcp.config import Settings
from acontext_mcp.disk import files
from acontext_mcp.store.db import connect

home, worker, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
settings = Settings(home=home, skills_dir=home / "skills")
conn = connect(settings.db_path)
for i in range(rounds):
    body = (f"worker {worker} round {i}\\n" * (2000 + 500 * worker)).encode()
    files.write_file(conn, settings, "default", "shared/target.txt", body)
conn.close()
"""


def expected_bodies(workers: int, rounds: int) -> set[bytes]:
    return {
        (f"worker {w} round {i}\n" * (2000 + 500 * w)).encode()
        for w in range(workers)
        for i in range(rounds)
    }


class TestConcurrentWriters:
    def check_final(
        self, conn: sqlite3.Connection, settings: Settings, root: Path, bodies: set[bytes]
    ) -> None:
        final = (root / "shared" / "target.txt").read_bytes()
        assert final in bodies
        row = row_of(conn, "/shared/", "target.txt")
        assert row["sha256"] == sha(final)
        assert row["size"] == len(final)
        assert temp_files(root) == []

    def test_threads_never_tear_a_file(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        workers, rounds = 6, 15
        bodies = expected_bodies(workers, rounds)
        errors: list[BaseException] = []
        torn: list[int] = []
        stop = threading.Event()
        start = threading.Barrier(workers + 1)

        def write(worker: int) -> None:
            own = connect(settings.db_path)
            try:
                start.wait()
                for i in range(rounds):
                    body = (f"worker {worker} round {i}\n" * (2000 + 500 * worker)).encode()
                    files.write_file(own, settings, "default", "shared/target.txt", body)
            except BaseException as exc:
                errors.append(exc)
            finally:
                own.close()

        mismatched: list[str] = []

        def watch() -> None:
            # Holding the store's write lock freezes our writers, so file and row must agree.
            target = root / "shared" / "target.txt"
            own = connect(settings.db_path)
            while not stop.is_set():
                with atomic(own):
                    try:
                        data = target.read_bytes()
                    except FileNotFoundError:
                        continue
                    row = own.execute(
                        "SELECT sha256 FROM artifacts WHERE filename = 'target.txt'"
                    ).fetchone()
                if data not in bodies:
                    torn.append(len(data))
                if row is None or row["sha256"] != sha(data):
                    mismatched.append(sha(data))
            own.close()

        threads = [threading.Thread(target=write, args=(w,)) for w in range(workers)]
        watcher = threading.Thread(target=watch)
        for thread in threads:
            thread.start()
        start.wait()
        watcher.start()
        for thread in threads:
            thread.join()
        stop.set()
        watcher.join()
        assert errors == []
        assert torn == []
        assert mismatched == []
        self.check_final(conn, settings, root, bodies)

    def test_four_processes_never_tear_a_file(
        self, conn: sqlite3.Connection, settings: Settings, root: Path
    ) -> None:
        workers, rounds = 4, 20
        files.ensure_disk(conn, "default")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(settings.home), str(w), str(rounds)],
                env=env,
                stderr=subprocess.PIPE,
            )
            for w in range(workers)
        ]
        bodies = expected_bodies(workers, rounds)
        target = root / "shared" / "target.txt"
        torn: list[int] = []
        try:
            deadline = time.monotonic() + 60
            while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
                try:
                    data = target.read_bytes()
                except FileNotFoundError:
                    continue
                if data not in bodies:
                    torn.append(len(data))
            results = [(proc.wait(timeout=60), proc.communicate()[1]) for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert [code for code, _err in results] == [0] * workers, results
        assert torn == []
        self.check_final(conn, settings, root, bodies)

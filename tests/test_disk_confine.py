"""Disk path confinement: every refused form, symlink escapes, and nothing outside touched."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.disk import files, search
from acontext_mcp.disk.confine import (
    check_disk_name,
    confine,
    confine_entry,
    disk_root,
    normalize,
)
from acontext_mcp.errors import AcontextError, InvalidInput, NotFound, PathEscape


@pytest.fixture
def root(settings: Settings) -> Path:
    path = disk_root(settings, "default")
    path.mkdir(parents=True)
    return path


def snapshot(top: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every entry under `top` with its mode, mtime and content (for files)."""
    found: dict[str, tuple[int, int, bytes | None]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            found[str(path.relative_to(top))] = (info.st_mode, info.st_mtime_ns, content)
    return found


class TestNormalize:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("/notes/a.md", "/notes/a.md"),
            ("notes/a.md", "/notes/a.md"),
            ("//notes///a.md", "/notes/a.md"),
            ("notes/./a.md/", "/notes/a.md"),
            ("/", "/"),
            ("", "/"),
            (".", "/"),
            ("a\tb.md", "/a\tb.md"),
            ("dir/~draft.md", "/dir/~draft.md"),
            ("/~home.md", "/~home.md"),
            ("é/ü.md", "/é/ü.md"),
            ("x" * 1024, "/" + "x" * 1024),
        ],
    )
    def test_accepts_and_canonicalizes(self, given: str, expected: str) -> None:
        assert normalize(given) == expected

    @pytest.mark.parametrize(
        ("given", "reason"),
        [
            ("..", "'..'"),
            ("../x", "'..'"),
            ("/a/../b", "'..'"),
            ("a/..", "'..'"),
            ("a/b/../../..", "'..'"),
            ("a\x00b", "NUL"),
            ("a\\b", "backslash"),
            ("..\\x", "backslash"),
            ("C:\\x", "backslash"),
            ("C:/x", "Windows drive"),
            ("c:x", "Windows drive"),
            ("\\\\server\\share", "backslash"),
            ("~", "'~'"),
            ("~/notes.md", "'~'"),
            ("~root/x", "'~'"),
            ("a\nb", "control character"),
            ("a\rb", "control character"),
            ("a\x01b", "control character"),
            ("a\x1bb", "control character"),
            ("a\x7fb", "control character"),
            ("a\x85b", "control character"),
            ("x" * 1025, "1025 characters"),
        ],
    )
    def test_refuses_with_a_reason(self, given: str, reason: str) -> None:
        with pytest.raises(PathEscape, match=reason):
            normalize(given)

    def test_refuses_non_strings(self) -> None:
        with pytest.raises(PathEscape, match="string"):
            normalize(b"/a.md")  # type: ignore[arg-type]

    def test_path_escape_is_invalid_input(self) -> None:
        assert issubclass(PathEscape, InvalidInput)


class TestDiskNames:
    @pytest.mark.parametrize("name", ["default", "a", "0", "my-disk_2", "x" * 64])
    def test_valid(self, name: str) -> None:
        assert check_disk_name(name) == name

    @pytest.mark.parametrize(
        "name", ["", "-a", "_a", "A", "my disk", "a/b", "..", ".", "a.b", "x" * 65, "é", "a\n"]
    )
    def test_invalid(self, name: str) -> None:
        with pytest.raises(InvalidInput, match="invalid disk name"):
            check_disk_name(name)


class TestConfine:
    def test_resolves_inside_the_root(self, root: Path) -> None:
        real_root = root.resolve()
        assert confine(root, "/") == real_root
        assert confine(root, "/notes/a.md") == real_root / "notes" / "a.md"
        assert confine(root, "notes/a.md") == confine(root, "/notes/a.md")

    def test_must_exist(self, root: Path) -> None:
        with pytest.raises(NotFound, match="does not exist"):
            confine(root, "/missing.md", must_exist=True)
        (root / "here.md").write_text("x")
        assert confine(root, "here.md", must_exist=True).name == "here.md"

    def test_symlink_to_etc_is_refused(self, root: Path) -> None:
        (root / "etc").symlink_to("/etc")
        for path in ("etc", "/etc/passwd", "etc/does-not-exist"):
            with pytest.raises(PathEscape, match="outside the disk"):
                confine(root, path)

    def test_symlink_to_outside_dir_is_refused(self, root: Path, tmp_path: Path) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (root / "out").symlink_to(outside)
        (root / "rel").symlink_to("../../../outside")
        for path in ("out", "out/new.txt", "rel/x", "rel"):
            with pytest.raises(PathEscape):
                confine(root, path)

    def test_symlink_to_sibling_disk_is_refused(self, settings: Settings, root: Path) -> None:
        sibling = disk_root(settings, "other")
        sibling.mkdir()
        (sibling / "secret.md").write_text("secret")
        (root / "peek").symlink_to("../other")
        (root / "peek.md").symlink_to(sibling / "secret.md")
        for path in ("peek", "peek/secret.md", "peek.md"):
            with pytest.raises(PathEscape):
                confine(root, path)

    def test_symlink_inside_the_disk_is_allowed(self, root: Path) -> None:
        (root / "real").mkdir()
        (root / "real" / "a.md").write_text("a")
        (root / "alias").symlink_to("real")
        (root / "a-link.md").symlink_to("real/a.md")
        real_root = root.resolve()
        assert confine(root, "alias/a.md") == real_root / "real" / "a.md"
        assert confine(root, "a-link.md") == real_root / "real" / "a.md"

    def test_confine_entry_does_not_follow_the_last_link(self, root: Path) -> None:
        (root / "real.md").write_text("a")
        (root / "link.md").symlink_to("real.md")
        assert confine_entry(root, "link.md") == root.resolve() / "link.md"
        (root / "bad").symlink_to("/etc")
        with pytest.raises(PathEscape):
            confine_entry(root, "bad")

    def test_a_symlinked_data_home_still_works(self, tmp_path: Path) -> None:
        real_home = tmp_path / "real-home"
        (real_home / "disks" / "default").mkdir(parents=True)
        (tmp_path / "linked-home").symlink_to(real_home)
        root = tmp_path / "linked-home" / "disks" / "default"
        assert confine(root, "a.md") == real_home.resolve() / "disks" / "default" / "a.md"

    def test_symlink_loop_does_not_escape(self, root: Path) -> None:
        (root / "loop").symlink_to("loop")
        resolved = confine(root, "loop")
        assert resolved.is_relative_to(root.resolve())


class TestNothingOutsideIsTouched:
    """Drive every public operation with hostile paths; the outside must not change."""

    def test_hostile_operations_leave_outside_and_siblings_unchanged(
        self, settings: Settings, conn: sqlite3.Connection, root: Path, tmp_path: Path
    ) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "victim.txt").write_text("do not touch")
        (outside / "sub").mkdir()
        (outside / "sub" / "deep.txt").write_text("deep")
        sibling = disk_root(settings, "other")
        sibling.mkdir()
        (sibling / "secret.md").write_text("secret TOKEN")
        (root / "out").symlink_to(outside)
        (root / "victim.txt").symlink_to(outside / "victim.txt")
        (root / "peek").symlink_to("../other")
        (root / "ok.md").write_text("fine TOKEN")
        before_outside, before_sibling = snapshot(outside), snapshot(sibling)

        hostile = [
            "out/victim.txt",
            "out/new.txt",
            "out/sub/deep.txt",
            "out/sub",
            "out",
            "victim.txt",
            "peek/secret.md",
            "peek/new.md",
            "peek",
            "../outside/victim.txt",
            "/../outside/new.txt",
            "..\\outside\\x",
            "C:/x",
            "~/x",
            "a\x00b",
        ]
        calls = [
            lambda p: files.write_file(conn, settings, "default", p, "pwned"),
            lambda p: files.read_file(conn, settings, "default", p),
            lambda p: files.read_bytes(conn, settings, "default", p),
            lambda p: files.list_dir(conn, settings, "default", p),
            lambda p: files.stat(conn, settings, "default", p),
            lambda p: files.update_meta(conn, settings, "default", p, {"x": 1}),
            lambda p: files.delete(conn, settings, "default", p + "/sub", recursive=True),
            lambda p: files.move(conn, settings, "default", "ok.md", p, overwrite=True),
            lambda p: files.move(conn, settings, "default", p, "stolen.md", overwrite=True),
        ]
        for path in hostile:
            for call in calls:
                with pytest.raises(AcontextError):
                    call(path)
        # Deleting the escaping links themselves is refused as well, so they are still there.
        for path in ("out", "victim.txt", "peek"):
            with pytest.raises(PathEscape):
                files.delete(conn, settings, "default", path, recursive=True)

        assert snapshot(outside) == before_outside
        assert snapshot(sibling) == before_sibling
        assert (root / "ok.md").read_text() == "fine TOKEN"
        assert not (root / "stolen.md").exists()
        found = search.grep(settings, "default", "TOKEN|do not touch|deep")
        assert [m["path"] for m in found["matches"]] == ["/ok.md"]
        assert search.glob(settings, "default", "*")["matches"] == ["/ok.md"]
        assert files.list_dir(conn, settings, "default")["files"] == [
            {"name": "ok.md", "size": 10, "mime": "text/markdown"}
        ]
        assert files.list_dir(conn, settings, "default")["dirs"] == []

    def test_a_bad_disk_name_never_reaches_the_filesystem(
        self, settings: Settings, conn: sqlite3.Connection, tmp_path: Path
    ) -> None:
        for name in ("..", "../outside", "/tmp", "Default", "a/b"):
            with pytest.raises(InvalidInput):
                files.write_file(conn, settings, name, "a.md", "x")
            with pytest.raises(InvalidInput):
                search.grep(settings, name, "x")
        assert not (tmp_path / "outside").exists()
        with contextlib.suppress(FileNotFoundError):
            assert os.listdir(settings.disks_dir) == []

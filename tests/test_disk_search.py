"""Disk glob and grep over real files: semantics, limits, binary skipping and time bounds."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import regex

from acontext_mcp.config import Settings
from acontext_mcp.disk.confine import disk_root
from acontext_mcp.disk.search import glob, grep
from acontext_mcp.disk.walk import TEMP_PREFIX
from acontext_mcp.errors import InvalidInput, NotFound, SearchTimeout

TREE = [
    "README",
    "a.md",
    "b.txt",
    "docs/x.md",
    "docs/sub/y.md",
    "docs/sub/deep/z.md",
    "notes/n.md",
    "notes/deep/m.md",
    "src/pkg/b.py",
    "src/pkg/test_b.py",
    "src/test_a.py",
    "test_top.py",
    "a-b.md",
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", skills_dir=tmp_path / "skills")


@pytest.fixture
def root(settings: Settings) -> Path:
    path = disk_root(settings, "default")
    path.mkdir(parents=True)
    return path


def make(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)


class TestGlob:
    @pytest.fixture(autouse=True)
    def _tree(self, root: Path) -> None:
        make(root, dict.fromkeys(TREE, "x\n"))

    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            (
                "*.md",
                [
                    "/a-b.md",
                    "/a.md",
                    "/docs/sub/deep/z.md",
                    "/docs/sub/y.md",
                    "/docs/x.md",
                    "/notes/deep/m.md",
                    "/notes/n.md",
                ],
            ),
            ("/*.md", ["/a-b.md", "/a.md"]),
            ("**/*.md", None),  # Same as "*.md".
            ("docs/**/*.md", ["/docs/sub/deep/z.md", "/docs/sub/y.md", "/docs/x.md"]),
            ("/docs/*.md", ["/docs/x.md"]),
            ("docs/*.md", ["/docs/x.md"]),
            ("notes/", ["/notes/deep/m.md", "/notes/n.md"]),
            ("**/test_*.py", ["/src/pkg/test_b.py", "/src/test_a.py", "/test_top.py"]),
            ("test_*.py", ["/src/pkg/test_b.py", "/src/test_a.py", "/test_top.py"]),
            ("/test_*.py", ["/test_top.py"]),
            ("src/**", ["/src/pkg/b.py", "/src/pkg/test_b.py", "/src/test_a.py"]),
            (
                "?.md",
                [
                    "/a.md",
                    "/docs/x.md",
                    "/docs/sub/y.md",
                    "/docs/sub/deep/z.md",
                    "/notes/n.md",
                    "/notes/deep/m.md",
                ],
            ),
            ("[ab].*", ["/a.md", "/b.txt", "/src/pkg/b.py"]),
            ("README", ["/README"]),
            ("deep", ["/docs/sub/deep/z.md", "/notes/deep/m.md"]),
            ("*.rs", []),
        ],
    )
    def test_gitignore_semantics(
        self, settings: Settings, pattern: str, expected: list[str] | None
    ) -> None:
        if expected is None:
            expected = glob(settings, "default", "*.md")["matches"]
        result = glob(settings, "default", pattern)
        assert result == {"matches": sorted(expected), "truncated": False}

    def test_results_are_sorted_and_capped(self, settings: Settings) -> None:
        result = glob(settings, "default", "*", limit=3)
        assert result == {"matches": ["/README", "/a-b.md", "/a.md"], "truncated": True}
        everything = glob(settings, "default", "*")["matches"]
        assert everything == sorted(everything)
        assert len(everything) == len(TREE)
        assert glob(settings, "default", "*", limit=len(TREE))["truncated"] is False

    @pytest.mark.parametrize("pattern", ["../*.md", "docs/../../x", "..", "", "  ", "!*.md"])
    def test_bad_patterns(self, settings: Settings, pattern: str) -> None:
        with pytest.raises(InvalidInput):
            glob(settings, "default", pattern)

    def test_limit_bounds(self, settings: Settings) -> None:
        for limit in (0, 1001):
            with pytest.raises(InvalidInput, match="limit"):
                glob(settings, "default", "*", limit=limit)

    def test_our_temp_files_are_hidden(self, settings: Settings, root: Path) -> None:
        (root / f"{TEMP_PREFIX}abc.tmp").write_text("x")
        assert f"/{TEMP_PREFIX}abc.tmp" not in glob(settings, "default", "*")["matches"]


class TestDisks:
    def test_default_disk_before_first_write_is_empty(self, settings: Settings) -> None:
        assert glob(settings, "default", "*") == {"matches": [], "truncated": False}
        assert grep(settings, "default", "x")["matches"] == []

    def test_missing_disk(self, settings: Settings) -> None:
        with pytest.raises(NotFound, match="disk 'nope'"):
            glob(settings, "nope", "*")
        with pytest.raises(NotFound, match="disk 'nope'"):
            grep(settings, "nope", "x")


def paths_lines(result: dict) -> list[tuple[str, int]]:
    return [(m["path"], m["line"]) for m in result["matches"]]


class TestGrep:
    def test_line_numbers_one_result_per_line(self, settings: Settings, root: Path) -> None:
        make(root, {"b.py": "import os\nx = 1\nfoo foo foo\n\nfoo\n", "a.md": "no\nfoo\n"})
        result = grep(settings, "default", "foo")
        assert paths_lines(result) == [("/a.md", 2), ("/b.py", 3), ("/b.py", 5)]
        assert result["matches"][1]["text"] == "foo foo foo"
        assert result["files_scanned"] == 2
        assert (result["truncated"], result["timed_out"]) == (False, False)

    def test_anchors_and_empty_matches(self, settings: Settings, root: Path) -> None:
        make(root, {"a.txt": "one\ntwo\n\nfour\n", "b.txt": "no newline", "empty.txt": ""})
        assert paths_lines(grep(settings, "default", "^")) == [
            ("/a.txt", 1),
            ("/a.txt", 2),
            ("/a.txt", 3),
            ("/a.txt", 4),
            ("/b.txt", 1),
        ]
        assert paths_lines(grep(settings, "default", "^$")) == [("/a.txt", 3)]
        assert paths_lines(grep(settings, "default", "^t")) == [("/a.txt", 2)]
        assert paths_lines(grep(settings, "default", "o$")) == [("/a.txt", 2)]
        assert paths_lines(grep(settings, "default", r"e\nt")) == [("/a.txt", 1)]

    def test_context(self, settings: Settings, root: Path) -> None:
        make(root, {"a.txt": "".join(f"line {i}\n" for i in range(1, 11))})
        result = grep(settings, "default", "line (1|5|10)$", context=2)
        first, middle, last = result["matches"]
        assert (first["line"], first["before"], first["after"]) == (1, [], ["line 2", "line 3"])
        assert middle["before"] == ["line 3", "line 4"]
        assert middle["after"] == ["line 6", "line 7"]
        assert (last["line"], last["before"], last["after"]) == (10, ["line 8", "line 9"], [])
        no_context = grep(settings, "default", "line 5")["matches"][0]
        assert (no_context["before"], no_context["after"]) == ([], [])

    def test_crlf_lines_are_shown_without_the_carriage_return(
        self, settings: Settings, root: Path
    ) -> None:
        make(root, {"w.txt": "alpha\r\nbeta\r\ngamma\r\n"})
        match = grep(settings, "default", "beta", context=1)["matches"][0]
        assert (match["line"], match["text"], match["before"], match["after"]) == (
            2,
            "beta",
            ["alpha"],
            ["gamma"],
        )

    def test_ignore_case(self, settings: Settings, root: Path) -> None:
        make(root, {"a.md": "TODO: one\ntodo two\nToDo three\nnothing\n"})
        assert paths_lines(grep(settings, "default", "todo")) == [("/a.md", 2)]
        insensitive = grep(settings, "default", "todo", ignore_case=True)
        assert [m["line"] for m in insensitive["matches"]] == [1, 2, 3]

    def test_glob_filter(self, settings: Settings, root: Path) -> None:
        make(root, {"a.md": "hit\n", "src/b.py": "hit\n", "src/c.md": "hit\n"})
        assert paths_lines(grep(settings, "default", "hit", glob="*.md")) == [
            ("/a.md", 1),
            ("/src/c.md", 1),
        ]
        assert paths_lines(grep(settings, "default", "hit", glob="src/**")) == [
            ("/src/b.py", 1),
            ("/src/c.md", 1),
        ]
        with pytest.raises(InvalidInput, match=r"'\.\.'"):
            grep(settings, "default", "hit", glob="../*")

    def test_cap_and_truncated(self, settings: Settings, root: Path) -> None:
        make(root, {"a.txt": "hit\n" * 5, "b.txt": "hit\n" * 5})
        result = grep(settings, "default", "hit", max_results=7)
        assert paths_lines(result)[-1] == ("/b.txt", 2)
        assert (len(result["matches"]), result["truncated"]) == (7, True)
        exact = grep(settings, "default", "hit", max_results=10)
        assert (len(exact["matches"]), exact["truncated"]) == (10, False)

    def test_bounds(self, settings: Settings) -> None:
        for kwargs in (
            {"context": 21},
            {"context": -1},
            {"max_results": 0},
            {"max_results": 1001},
            {"timeout": 0},
            {"timeout": -1},
        ):
            with pytest.raises(InvalidInput):
                grep(settings, "default", "x", **kwargs)

    def test_binary_and_oversized_files_are_skipped(self, settings: Settings, root: Path) -> None:
        make(
            root,
            {
                "bin.dat": b"match\x00\x01\x02",
                "latin1.txt": b"match caf\xe9\n",
                "late-nul.txt": b"match\n" + b"x" * 9000 + b"\x00",
                "big.txt": "match\n" * 2000,
                "ok.txt": "match\n",
            },
        )
        small = settings.replace(max_artifact_bytes=10_000)
        result = grep(small, "default", "match")
        assert [m["path"] for m in result["matches"]] == ["/late-nul.txt", "/ok.txt"]
        assert result["files_skipped_binary"] == 2
        assert result["files_skipped_large"] == 1
        assert result["files_scanned"] == 2

    def test_long_lines_are_clipped_around_the_match(self, settings: Settings, root: Path) -> None:
        make(root, {"min.js": "a" * 5000 + "NEEDLE" + "b" * 5000 + "\n"})
        text = grep(settings, "default", "NEEDLE")["matches"][0]["text"]
        assert "NEEDLE" in text
        assert len(text) <= 402
        assert text.startswith("…")
        assert text.endswith("…")

    def test_invalid_regex_quotes_the_error(self, settings: Settings) -> None:
        with pytest.raises(InvalidInput) as caught:
            grep(settings, "default", "foo(bar")
        message = str(caught.value)
        assert "invalid regular expression 'foo(bar'" in message
        assert "missing )" in message

    def test_symlinks_leaving_the_disk_are_not_followed(
        self, settings: Settings, root: Path, tmp_path: Path
    ) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text("needle outside\n")
        (root / "out").symlink_to(outside)
        (root / "secret.txt").symlink_to(outside / "secret.txt")
        make(root, {"in.txt": "needle inside\n", "real/x.txt": "needle via link\n"})
        (root / "alias.txt").symlink_to("in.txt")
        (root / "dirlink").symlink_to("real")
        result = grep(settings, "default", "needle")
        # An inner file link is searched; inner directory links are not descended (no loops).
        assert [m["path"] for m in result["matches"]] == ["/alias.txt", "/in.txt", "/real/x.txt"]


class TestAgainstALineByLineReference:
    """Whole-text search with newline counting must agree with the obvious per-line loop."""

    PATTERNS = ("a", "ab", "^b", "b$", "^$", "a+b", "^a*$", "(?<=a)b", "b{2}", "^")

    @staticmethod
    def reference(text: str, pattern: str, context: int) -> list[tuple[int, str, list, list]]:
        lines = text.split("\n")
        if text.endswith("\n") or not text:
            lines.pop()
        rx = regex.compile(pattern)
        return [
            (i + 1, line, lines[max(0, i - context) : i], lines[i + 1 : i + 1 + context])
            for i, line in enumerate(lines)
            if rx.search(line)
        ]

    def test_random_texts(self, settings: Settings, root: Path) -> None:
        rng = random.Random(1234)
        for case in range(150):
            text = "".join(rng.choices("ab\n", weights=[3, 3, 2], k=rng.randint(0, 60)))
            pattern = rng.choice(self.PATTERNS)
            context = rng.randint(0, 3)
            (root / "t.txt").write_text(text)
            result = grep(settings, "default", pattern, context=context, max_results=1000)
            got = [(m["line"], m["text"], m["before"], m["after"]) for m in result["matches"]]
            assert got == self.reference(text, pattern, context), (case, text, pattern)


class TestTimeout:
    PATHOLOGICAL = "(x+x+)+y"

    def test_pathological_pattern_times_out_with_partial_results(
        self, settings: Settings, root: Path
    ) -> None:
        make(root, {"a.txt": "xxy\n", "b.txt": "x" * 5000 + "\n", "c.txt": "xy\n"})
        started = time.monotonic()
        result = grep(settings, "default", self.PATHOLOGICAL, timeout=0.5)
        elapsed = time.monotonic() - started
        assert elapsed < 2
        assert result["timed_out"] is True
        assert paths_lines(result) == [("/a.txt", 1)]
        assert result["files_scanned"] == 1

    def test_timing_out_before_anything_was_searched_is_an_error(
        self, settings: Settings, root: Path
    ) -> None:
        make(root, {"b.txt": "x" * 5000 + "\n"})
        started = time.monotonic()
        with pytest.raises(SearchTimeout, match="time limit"):
            grep(settings, "default", self.PATHOLOGICAL, timeout=0.5)
        assert time.monotonic() - started < 2

    def test_default_timeout_comes_from_settings(self, settings: Settings, root: Path) -> None:
        make(root, {"a.txt": "xxy\n", "b.txt": "x" * 5000 + "\n"})
        quick = settings.replace(grep_timeout=0.3)
        started = time.monotonic()
        assert grep(quick, "default", self.PATHOLOGICAL)["timed_out"] is True
        assert time.monotonic() - started < 2

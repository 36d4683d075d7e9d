"""disk_grep on its worker processes: the same answers as one pass, and no worker outlives us.

A search over more than HEAD_FILES + POOL_MIN_FILES files goes to the pool; each case here is
run both ways on the same tree and compared whole (matches, order, counts, truncation).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_server_stdio import RawServer

from acontext_mcp.config import Settings
from acontext_mcp.disk import grep_pool, search
from acontext_mcp.disk.confine import disk_root
from acontext_mcp.disk.search import grep

FILES = 900
WORDS = ["alpha", "beta", "return value", "TODO fix", "kelvin", "Quokka", "x = 1", "café"]


@pytest.fixture(autouse=True)
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers even on a single-core runner, where grep would not start any."""
    monkeypatch.setattr(grep_pool, "worker_count", lambda: 2)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", skills_dir=tmp_path / "skills")


@pytest.fixture
def tree(settings: Settings) -> Path:
    """FILES files over nested folders: text, a few binary, non-UTF-8, oversized and
    non-ASCII ones (the Kelvin sign folds to "k" when ignoring case)."""
    root = disk_root(settings, "default")
    rng = random.Random(99)
    for i in range(FILES):
        folder = root / f"d{i % 7}" / f"e{i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            " ".join(rng.choices(WORDS, k=rng.randint(1, 5))) for _ in range(rng.randint(0, 40))
        ]
        if i % 97 == 0:
            lines.append("the \u212a sign")
        if i % 131 == 0:
            lines.append("QUOKKA_RARE here")
        data = ("\n".join(lines) + ("\n" if i % 3 else "")).encode()
        if i % 89 == 0:
            data = b"\x89PNG\x00" + data
        elif i % 113 == 0:
            data = data + b"\xff\xfe not utf-8"
        elif i % 151 == 0:
            data = data * 200  # over the artifact cap set below
        (folder / f"f{i:04d}.{'md' if i % 2 else 'py'}").write_bytes(data)
    return root


CASES: list[dict[str, Any]] = [
    {"pattern": "QUOKKA_RARE"},
    {"pattern": "quokka", "ignore_case": True, "max_results": 1000},
    {"pattern": "k", "ignore_case": True, "max_results": 1000},
    {"pattern": "kelvin", "ignore_case": True, "max_results": 1000, "context": 2},
    {"pattern": r"\bx = \d\b", "max_results": 1000, "context": 1},
    {"pattern": "return value", "max_results": 7},
    {"pattern": "café$", "max_results": 1000},
    {"pattern": "TODO", "glob": "*.md", "max_results": 300},
    {"pattern": "^$", "max_results": 1000},
    {"pattern": "beta", "max_results": 1000},
]


def both_ways(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, **args: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    pooled = grep(settings, "default", **args)
    with monkeypatch.context() as patch:
        patch.setattr(search, "POOL_MIN_FILES", 10**9)
        alone = grep(settings, "default", **args)
    pooled.pop("elapsed")
    alone.pop("elapsed")
    return pooled, alone


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["pattern"])
def test_the_pool_answers_exactly_as_one_pass(
    settings: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]
) -> None:
    small_cap = settings.replace(max_artifact_bytes=20_000)
    pooled, alone = both_ways(small_cap, monkeypatch, **case)
    assert pooled == alone
    assert grep_pool._pool is not None and grep_pool._pool.workers  # the pool was used
    assert alone["files_scanned"] > 0


def naive(tree: Path, word: str) -> tuple[list[tuple[str, int]], int]:
    """(path, line) of every line holding `word`, in path order, and the binary file count."""
    hits: list[tuple[str, int]] = []
    binary = 0
    for path in sorted(tree.rglob("*"), key=lambda p: str(p.relative_to(tree))):
        if not path.is_file():
            continue
        data = path.read_bytes()
        try:
            text = None if b"\x00" in data[:8192] else data.decode()
        except UnicodeDecodeError:
            text = None
        if text is None:
            binary += 1
            continue
        rel = "/" + str(path.relative_to(tree))
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        hits += [(rel, n + 1) for n, line in enumerate(lines) if word in line]
    return hits, binary


def test_counts_and_truncation_match_a_naive_pass(
    settings: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rare, binary = naive(tree, "QUOKKA_RARE")
    pooled, _ = both_ways(settings, monkeypatch, pattern="QUOKKA_RARE")
    assert [(m["path"], m["line"]) for m in pooled["matches"]] == rare
    assert pooled["files_skipped_binary"] == binary > 0
    assert pooled["files_scanned"] == FILES - binary
    assert pooled["truncated"] is False
    many, _ = naive(tree, "beta")
    assert len(many) > 1000  # so the cap cuts the answer
    pooled, _ = both_ways(settings, monkeypatch, pattern="beta", max_results=1000)
    assert pooled["truncated"] is True
    assert [(m["path"], m["line"]) for m in pooled["matches"]] == many[:1000]


def test_a_pathological_pattern_still_stops_at_the_deadline(settings: Settings) -> None:
    root = disk_root(settings, "default")
    for i in range(600):
        folder = root / f"d{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:03d}.txt").write_text("xxy\n" if i < 70 else "x" * 3000 + "\n")
    started = time.monotonic()
    result = grep(settings, "default", "(x+x+)+y", timeout=0.7)
    assert time.monotonic() - started < 3
    assert result["timed_out"] is True
    assert result["matches"][0] == {
        "path": "/d0/f000.txt",
        "line": 1,
        "text": "xxy",
        "before": [],
        "after": [],
    }


def test_a_killed_worker_loses_no_result(
    settings: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, _ = both_ways(settings, monkeypatch, pattern="alpha", max_results=1000)
    pool = grep_pool._pool
    assert pool is not None
    victim = pool.workers[0].process
    victim.kill()
    victim.wait()
    again, alone = both_ways(settings, monkeypatch, pattern="alpha", max_results=1000)
    assert again == alone == expected
    third, _ = both_ways(settings, monkeypatch, pattern="alpha", max_results=1000)
    assert third == expected
    assert grep_pool._pool is not pool  # the broken pool was replaced
    assert all(w.process.poll() is None for w in grep_pool._pool.workers)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def gone_within(pids: set[int], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < end:
        time.sleep(0.05)
    return not alive(pids)


@pytest.mark.skipif(grep_pool.worker_count() < 2, reason="one core: the server starts no pool")
@pytest.mark.parametrize("how", ["stdin closed", "SIGKILL"])
def test_no_worker_outlives_the_stdio_server(
    settings: Settings, tree: Path, tmp_path: Path, how: str
) -> None:
    with (tmp_path / "server.stderr").open("w") as errlog:
        server = RawServer(settings.home, errlog)
        try:
            server.request(
                "initialize",
                {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "pool-test", "version": "0"},
                },
            )
            server.notify("notifications/initialized")
            result = server.call_tool("disk_grep", {"pattern": "beta", "max_results": 1000})
            assert result["isError"] is False
            assert len(result["structuredContent"]["matches"]) == 1000
            workers = descendants(server.proc.pid)
            assert len(workers) >= 2, workers
            if how == "SIGKILL":
                os.kill(server.proc.pid, signal.SIGKILL)
                server.proc.wait(timeout=5)
            else:
                code, _seconds = server.close_stdin_and_wait(timeout=10)
                assert code == 0
        finally:
            server.close()
    assert gone_within(workers, 5), alive(workers)
    assert len(server.stdout) == 2  # the workers wrote nothing to the protocol stream


def test_a_search_stopped_by_its_cap_leaves_the_next_one_intact(
    settings: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers still on their way when a capped search stops are skipped, not taken as the
    next search's."""
    expected = naive(tree, "QUOKKA_RARE")[0]
    left_behind = []
    for cap in (430, 600, 1000):
        capped, alone = both_ways(settings, monkeypatch, pattern="beta", max_results=cap)
        assert capped == alone and capped["truncated"] is True
        assert grep_pool._pool is not None
        left_behind.append(sum(worker.stale for worker in grep_pool._pool.workers))
        rare, alone = both_ways(settings, monkeypatch, pattern="QUOKKA_RARE")
        assert rare == alone
        assert [(m["path"], m["line"]) for m in rare["matches"]] == expected
    assert any(left_behind), left_behind  # some answers did arrive after a search stopped


def test_a_second_concurrent_search_runs_in_its_own_thread(
    settings: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, _ = both_ways(settings, monkeypatch, pattern="kelvin", max_results=1000)
    results: list[dict[str, Any]] = []

    def search_once() -> None:
        result = grep(settings, "default", "kelvin", max_results=1000)
        result.pop("elapsed")
        results.append(result)

    threads = [threading.Thread(target=search_once) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [expected] * 3

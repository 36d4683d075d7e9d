"""The retrieval bench's fixture reaches its target: a ranking regression fails CI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from acontext_mcp.skills import index

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_retrieval.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_retrieval", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_queries_find_their_files_at_the_target(tmp_path: Path) -> None:
    bench = _bench()
    queries = bench.load_queries()
    assert len(queries) >= 20
    settings = bench.fixture_settings(tmp_path)
    stats = index.refresh(settings)
    assert stats["skills"] >= 25
    for case in queries:  # every expected file exists: a typo cannot pass as a miss
        assert (settings.skills_dir / case["expect"]).is_file(), case
    scores, misses = bench.evaluate(settings, index.search, queries)
    assert scores[1] >= bench.TARGET[1], misses
    assert scores[3] >= bench.TARGET[3], misses

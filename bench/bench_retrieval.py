"""Retrieval quality of skill search: P@1 and P@3 on natural queries over a realistic repository.

The fixture (`bench/fixtures/retrieval/`) is a skills directory of 27 skills: the three default
skills filled in as a user's would be after weeks of work (runbooks of five projects, two of
them with near-identical commands; user facts; eight diary days that mention the same tools and
projects), and 24 procedure skills. `queries.json` holds 30 natural queries, keyword and
paraphrase, each with the file that should answer it; they were written before the ranker was
tuned. A query scores at k when its file is among the first k files `search` returns.

Prints P@1 and P@3 of today's index beside the index as it was at `--baseline REV` (its module
loaded from git, its index built in a separate home), and the queries each one misses.

`python bench/bench_retrieval.py [--baseline c483ec6] [--verbose]`
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.skills import index

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "retrieval"
TARGET = {1: 0.80, 3: 0.95}
Search = Callable[[Settings, str, int], list[dict[str, Any]]]


def load_queries() -> list[dict[str, str]]:
    queries: list[dict[str, str]] = json.loads((FIXTURE / "queries.json").read_text())
    return queries


def fixture_settings(root: Path) -> Settings:
    """A home under `root` whose skills directory is a copy of the fixture's."""
    settings = Settings(home=root / "home", skills_dir=root / "skills")
    shutil.copytree(FIXTURE / "skills", settings.skills_dir)
    settings.ensure_dirs()
    return settings


def evaluate(
    settings: Settings, search: Search, queries: list[dict[str, str]]
) -> tuple[dict[int, float], list[tuple[str, str, list[str]]]]:
    """P@1 and P@3, and the misses at 1: (query, expected file, the first three returned)."""
    found = {1: 0, 3: 0}
    misses: list[tuple[str, str, list[str]]] = []
    for case in queries:
        hits = [f"{h['folder']}/{h['path']}" for h in search(settings, case["query"], 3)]
        for k in found:
            found[k] += case["expect"] in hits[:k]
        if hits[:1] != [case["expect"]]:
            misses.append((case["query"], case["expect"], hits))
    return {k: n / len(queries) for k, n in found.items()}, misses


def load_baseline(rev: str) -> Any:
    """skills/index.py as it was at git revision `rev` (its imports resolve to today's modules).
    Imported here: tests load this file by path, without bench/ on sys.path."""
    from _support import module_at

    return module_at(rev, "acontext_mcp/skills/index.py", "baseline_index")


def run(module: Any, label: str, queries: list[dict[str, str]], verbose: bool) -> dict[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = fixture_settings(Path(tmp))
        stats = module.refresh(settings)
        scores, misses = evaluate(settings, module.search, queries)
    print(
        f"{label:<34} P@1 {scores[1]:.2f}  P@3 {scores[3]:.2f}  "
        f"({stats['skills']} skills, {stats['files']} files, {len(queries)} queries)"
    )
    if verbose:
        for query, expect, hits in misses:
            print(f"    miss@1 {query!r}: want {expect}, got {hits}")
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="c483ec6", help="git revision of the old index")
    parser.add_argument("--verbose", action="store_true", help="list the misses at 1")
    args = parser.parse_args()
    queries = load_queries()
    if args.baseline:
        run(load_baseline(args.baseline), f"before ({args.baseline})", queries, args.verbose)
    scores = run(index, "after (this tree)", queries, args.verbose)
    print(f"target: P@1 >= {TARGET[1]:.2f}, P@3 >= {TARGET[3]:.2f}")
    if any(scores[k] < TARGET[k] for k in TARGET):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Skill search over 10,000 generated skill files: index build, incremental refresh, latency.

Generates `--skills` skills of `--files` files each (SKILL.md plus Markdown notes and small
scripts) in a temporary directory, then prints: the time of the first `refresh` (full build of
`<home>/skills-index.db`), a `refresh` with nothing changed, a `refresh` after `--changed`
files were rewritten, and the median / p95 latency, median over `--runs` rounds, of `search`
and of `search_by_skill` (what the `search_skills` tool returns) over `--queries` queries
(one-, two- and three-word queries, a name, a hyphenated name, a word that matches nothing).

Then the `search_skills` tool's own path (the server's `Keeper.ensure_current()` and
`search_by_skill`), median and p95 of `--edits` rounds each: with nothing changed, and the
first query after a learner commit (files written, then `refresh_skills` as the pipeline
does), a user editing one file in place, a new skill folder and a deleted one; each checks
that the edited text is found. Beside it, "before": the full walk (`refresh`) the tool ran
on a query at least 2 s after the last one, plus the same search.

The generated text (`--corpus realistic`, the default) draws English function words and a
5,000-word technical vocabulary with Zipf frequencies, so a content word is in a few percent of
the files, as in real notes. `--corpus tiny` is the corpus of the first figures: sentences of
~40 words, each in most files, so every multi-word query matches nearly all of them.

`--baseline REV` runs it all on skills/index.py as it was at a git revision (loaded from git).

`python bench/bench_search_skills.py [--skills 1000] [--files 10] [--changed 10]
[--queries 50] [--runs 3] [--edits 30] [--corpus realistic|tiny] [--baseline REV]`
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _support import _WORDS, code, prose
from bench_retrieval import load_baseline

from acontext_mcp.config import Settings
from acontext_mcp.skills import index

TOPICS = [
    "pytest", "docker", "deploy", "migration", "cache", "release", "lint", "typing", "kafka",
    "postgres", "redis", "nginx", "terraform", "webpack", "vite", "celery", "fastapi", "django",
    "react", "rollback", "backup", "oauth", "grpc", "helm",
]  # fmt: skip


_FUNCTION = "the a to of and in is for it that on with as be this by or from when an if not use run"
_TECH = """
api build cache check ci cli client command commit config container cron cursor database debug
default dependency deploy directory docker endpoint environment error event file fixture flag
format function git handler header health hook image import index install job json key lint
loader lock log merge migration module network node package parser path port process proxy
python query queue record redis release request response retry role schema script secret server
service session shell snapshot sql ssh stage state storage stream table task template test
timeout token type update upload user variable version volume worker workflow yaml
"""
FUNCTION_WORDS, TECH = _FUNCTION.split(), _TECH.split()


def vocabulary(rng: random.Random, size: int = 5000) -> tuple[list[str], list[float]]:
    """Content words and their cumulative Zipf weights: real technical words (with the tiny
    corpus's words and the topics, so the same queries find something) at shuffled ranks
    among the 600 most frequent, made-up words for the rest."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zen", "pri", "dex", "sol", "bar"]
    real = list(dict.fromkeys([*TECH, *_WORDS, *TOPICS]))
    made: set[str] = set(real)
    words: list[str] = []
    while len(words) + len(real) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in made:
            made.add(word)
            words.append(word)
    head = real + words[: 600 - len(real)]  # the real words among the 600 most frequent
    rng.shuffle(head)
    words = head + words[600 - len(real) :]
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


def realistic_prose(rng: random.Random, chars: int, vocab: tuple[list[str], list[float]]) -> str:
    """Sentences of function words and Zipf-drawn content words, about 100 characters a line."""
    words, cumulative = vocab
    lines: list[str] = []
    line = ""
    size = 0
    while size < chars:
        picked = [
            rng.choice(FUNCTION_WORDS)
            if rng.random() < 0.4
            else rng.choices(words, cum_weights=cumulative)[0]
            for _ in range(rng.randint(8, 18))
        ]
        sentence = " ".join(picked).capitalize()
        size += len(sentence) + 1
        if line and len(line) + len(sentence) > 100:
            lines.append(line)
            line = ""
        line = f"{line} {sentence}." if line else sentence + "."
    return "\n".join([*lines, line])


def generate(
    root: Path, skills: int, files: int, rng: random.Random, corpus: str = "realistic"
) -> list[str]:
    if corpus == "tiny":
        text = prose
    else:
        vocab = vocabulary(random.Random(7))

        def text(rng: random.Random, chars: int) -> str:
            return realistic_prose(rng, chars, vocab)

    names: list[str] = []
    for i in range(skills):
        topic = rng.choice(TOPICS)
        name = f"{topic}-{rng.choice(TOPICS)}-{i:04d}"
        names.append(name)
        folder = root / name
        (folder / "notes").mkdir(parents=True)
        (folder / "scripts").mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: How to handle {topic} work; use when "
            f"{rng.choice(TOPICS)} breaks.\n---\n\n# {name}\n\n{text(rng, 1200)}\n"
        )
        for j in range(files - 1):
            if j % 3 == 2:
                (folder / "scripts" / f"step-{j}.py").write_text(code(rng, 800))
            else:
                (folder / "notes" / f"note-{j}.md").write_text(
                    f"# Note {j} on {rng.choice(TOPICS)}\n\n{text(rng, 1500)}\n"
                )
    return names


def queries(names: list[str], count: int, rng: random.Random) -> list[str]:
    shapes = [
        lambda: rng.choice(TOPICS),
        lambda: f"{rng.choice(TOPICS)} {rng.choice(TOPICS)}",
        lambda: f"config {rng.choice(TOPICS)} cursor",
        lambda: rng.choice(names),
        lambda: f'"{rng.choice(TOPICS)}" AND -x*',
        lambda: "zzyzx-nothing",
        lambda: "loader environment defaults",
    ]
    return [shapes[i % len(shapes)]() for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="query rounds (median of them)")
    parser.add_argument("--edits", type=int, default=30, help="rounds per edit kind")
    parser.add_argument("--corpus", choices=("realistic", "tiny"), default="realistic")
    parser.add_argument("--baseline", help="use skills/index.py as it was at this git revision")
    args = parser.parse_args()
    if args.baseline:
        global index
        index = load_baseline(args.baseline)
    rng = random.Random(5)
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"index {'at ' + args.baseline if args.baseline else 'of this tree'}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", skills_dir=Path(tmp) / "skills")
        settings.ensure_dirs()
        t0 = time.perf_counter()
        names = generate(settings.skills_dir, args.skills, args.files, rng, args.corpus)
        total = sum(len(f) for _, _, f in os.walk(settings.skills_dir))
        print(
            f"generated {total} files in {args.skills} skills, {args.corpus} corpus "
            f"({time.perf_counter() - t0:.1f} s)"
        )

        t0 = time.perf_counter()
        stats = index.refresh(settings)
        build = time.perf_counter() - t0
        size = index.index_path(settings).stat().st_size / 1e6
        print(f"index build: {build * 1000:.0f} ms ({stats['files']} files, {size:.1f} MB)")

        t0 = time.perf_counter()
        index.refresh(settings)
        print(f"refresh, nothing changed: {(time.perf_counter() - t0) * 1000:.0f} ms")

        for name in rng.sample(names, args.changed):
            path = settings.skills_dir / name / "notes" / "note-0.md"
            path.write_text(path.read_text() + "\nAppended: rotate the deploy keys first.\n")
        t0 = time.perf_counter()
        stats = index.refresh(settings)
        print(
            f"refresh, {args.changed} files changed: {(time.perf_counter() - t0) * 1000:.0f} ms "
            f"(updated {stats['updated']})"
        )

        asked = queries(names, args.queries, rng)
        for label, fn in (
            ("search (files)", index.search),
            ("search_by_skill (the MCP tool's answer)", index.search_by_skill),
        ):
            runs = [_latencies(settings, fn, asked) for _ in range(args.runs)]
            medians = [statistics.median(r) for r in runs]
            p95s = [r[max(0, int(len(r) * 0.95) - 1)] for r in runs]
            print(
                f"{label} over {args.queries} queries, {args.runs} runs: median "
                f"{statistics.median(medians):.1f} ms, p95 {statistics.median(p95s):.1f} ms, "
                f"max {max(r[-1] for r in runs):.1f} ms (target: median under 20 ms)"
            )
        _tool_path(settings, names, args.edits, rng)


def _stats(
    label: str,
    times: list[float],
    refresh: list[float] | None = None,
    cpu: list[float] | None = None,
) -> None:
    times = sorted(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    line = (
        f"  {label:<34} median {statistics.median(times):6.1f} ms, p95 {p95:6.1f} ms, "
        f"max {times[-1]:6.1f} ms"
    )
    if cpu:  # this process's CPU time: what the wall time is on an idle machine, near enough
        cpu = sorted(cpu)
        line += (
            f"  [cpu median {statistics.median(cpu):5.1f} ms, "
            f"p95 {cpu[max(0, int(len(cpu) * 0.95) - 1)]:5.1f} ms]"
        )
    if refresh:
        refresh = sorted(refresh)
        line += (
            f"  (of it the refresh: median {statistics.median(refresh):5.2f} ms, "
            f"p95 {refresh[max(0, int(len(refresh) * 0.95) - 1)]:5.2f} ms)"
        )
    print(line)


def _tool_path(settings: Settings, names: list[str], rounds: int, rng: random.Random) -> None:
    """What one `search_skills` call costs, before and after an edit of each kind."""
    print(f"\nsearch_skills path (ensure_current + search_by_skill), {rounds} rounds each:")
    keeper = index.Keeper(settings, full_every=2.0)
    keeper.ensure_current()
    root = settings.skills_dir
    word = iter(range(10**6))
    refresh: list[float] = []
    cpu: list[float] = []

    def query(text: str, expect: str | None) -> float:
        c0, t0 = time.process_time(), time.perf_counter()
        keeper.ensure_current()
        refresh.append((time.perf_counter() - t0) * 1000)
        hits = keeper.search_by_skill(text, 10)
        took = (time.perf_counter() - t0) * 1000
        cpu.append((time.process_time() - c0) * 1000)
        if expect is not None and expect not in {h["name"] for h in hits}:
            raise SystemExit(f"{text!r} did not find {expect} on the first query after the edit")
        return took

    def learner() -> tuple[str, str]:
        name, token = rng.choice(names), f"learnedword{next(word)}"
        (root / name / "notes" / f"learned-{token}.md").write_text(f"# {token}\n\nUse it.\n")
        index.refresh_skills(settings, [name])  # what after_learning does after its commit
        return token, name

    def in_place() -> tuple[str, str]:
        name, token = rng.choice(names), f"editedword{next(word)}"
        path = root / name / "notes" / "note-0.md"
        with path.open("a") as f:  # an editor saving in place: the folder's mtime stays
            f.write(f"\n{token} by hand.\n")
        return token, name

    def new_skill() -> tuple[str, str]:
        token = f"newword{next(word)}"
        folder = root / f"new-{token}"
        folder.mkdir()
        (folder / "SKILL.md").write_text(f"---\nname: new-{token}\ndescription: {token}\n---\n")
        names.append(folder.name)
        return token, folder.name

    def deleted() -> tuple[str, str]:
        name = names.pop(rng.randrange(len(names)))
        shutil.rmtree(root / name)
        return name, ""

    asked = queries(names, rounds, rng)
    _stats("nothing changed", [query(q, None) for q in asked], refresh, cpu)
    for label, edit in (
        ("after a learner commit", learner),
        ("after a user edit in place", in_place),
        ("after a new skill folder", new_skill),
        ("after a deleted skill folder", deleted),
    ):
        times, refresh[:], cpu[:] = [], [], []
        for _ in range(rounds):
            token, expect = edit()
            times.append(query(token, expect or None))
            if not expect and index.search_by_skill(settings, token, 10):
                raise SystemExit(f"deleted skill {token} still found")
        _stats(label, times, refresh, cpu)
    keeper.close()
    before = []
    for text in asked[:rounds]:
        t0 = time.perf_counter()
        index.refresh(settings)  # before: a full walk on a query 2 s after the last
        index.search_by_skill(settings, text, 10)
        before.append((time.perf_counter() - t0) * 1000)
    _stats("before: full refresh + search", before)


def _latencies(settings: Settings, fn: Any, asked: list[str]) -> list[float]:
    out: list[float] = []
    for query in asked:
        t0 = time.perf_counter()
        fn(settings, query, 10)
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


if __name__ == "__main__":
    main()

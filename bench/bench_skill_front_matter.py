"""What reading SKILL.md front matter costs the SessionStart brief: list_skills from spawn to exit.

The brief lists the learned skills (skills/catalog.py list_skills, one SKILL.md parse each)
inside the SessionStart hook, so the parser's import and its per-file cost land on the hook.
This times, in fresh interpreters and interleaved:

  import only    python -c "import acontext_mcp.skills.catalog" (the module, no listing)
  list N skills  the same, then list_skills over N skills (the three default skills, whose
                 descriptions are folded block scalars, plus N-3 plain one-line ones)

and prints the medians of wall and CPU time (user + system, steadier on a busy machine) and
their difference (what listing costs, the parser's import included), then the median time of
one parse_skill_md call in-process for a plain and a folded front matter. To compare with
another version of the code, export its tree and put it first on the path:
`git archive <commit> acontext_mcp | tar -x -C /tmp/old`, then run this with PYTHONPATH=/tmp/old.

    python bench/bench_skill_front_matter.py [--runs 21] [--skills 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = "---\nname: bench-skill\ndescription: Benchmark skill; use when measuring.\n---\n# B\n"


def _skills(root: Path, count: int) -> None:
    from acontext_mcp.skills import defaults

    defaults.ensure_default_skills(root)
    for i in range(max(0, count - len(defaults.DEFAULT_SKILLS))):
        folder = root / f"bench-skill-{i:03d}"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(PLAIN.replace("bench-skill", f"bench-skill-{i:03d}"))


def _spawn_ms(code: str) -> tuple[float, float]:
    """(wall ms, CPU ms: user + system) of one interpreter; CPU time stays steady on a busy
    machine where wall time does not."""
    started = time.perf_counter()
    # cwd "/": with `-c` the current directory comes first on sys.path, and a checkout's own
    # acontext_mcp there would shadow the version under test (PYTHONPATH or the install).
    child = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy(), cwd="/")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, child.returncode
    return (time.perf_counter() - started) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def _parse_us(text: str, runs: int) -> float:
    from acontext_mcp.skills.skillmd import parse_skill_md

    parse_skill_md(text)  # warm: the parser's import and set-up are not counted here
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(100):
            parse_skill_md(text)
        times.append((time.perf_counter() - started) * 1e6 / 100)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--skills", type=int, default=50)
    args = parser.parse_args()
    import acontext_mcp.skills.skillmd as skillmd
    from acontext_mcp.skills import defaults

    print(f"Python {sys.version.split()[0]}; {args.runs} runs; parser {skillmd.__file__}")
    where = "import acontext_mcp.skills.skillmd as m; assert m.__file__ == " + repr(
        skillmd.__file__
    )
    _spawn_ms(where)  # the children time the same code as this process
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "skills"
        _skills(root, args.skills)
        base = "import acontext_mcp.skills.catalog as c"
        listing = f"{base}; assert len(c.list_skills({str(root)!r})) == {args.skills}"
        _spawn_ms(listing)  # warm the page cache and .pyc files
        only, listed = [], []
        for _ in range(args.runs):
            only.append(_spawn_ms(base))
            listed.append(_spawn_ms(listing))
    for i, what in ((0, "wall"), (1, "CPU ")):
        med_only = statistics.median(t[i] for t in only)
        med_listed = statistics.median(t[i] for t in listed)
        print(
            f"{what}  import only {med_only:6.1f} ms   list {args.skills} skills "
            f"{med_listed:6.1f} ms   listing costs {med_listed - med_only:5.1f} ms"
        )
    folded = defaults.DEFAULT_SKILLS["daily-logs"]
    print(
        f"one parse        plain {_parse_us(PLAIN, args.runs):6.1f} us   "
        f"folded {_parse_us(folded, args.runs):6.1f} us"
    )


if __name__ == "__main__":
    main()

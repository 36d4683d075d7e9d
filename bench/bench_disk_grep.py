"""Benchmark disk grep (`acontext_mcp.disk.search.grep`, what the MCP tool calls) against rg.

Timed twice: in-process, and as the `disk_grep` tool over real stdio (`acontext-mcp serve` on
bare pipes, started once, untimed; JSON encoding of the results included).

Generates a deterministic corpus of realistic code, Markdown, JSON and log files (>= 100 MB by
default) inside a disk, then times both tools on the same patterns: median of N runs after one
warm-up run each, so both read from the page cache.

    python bench/bench_disk_grep.py [--dir DIR] [--size-mb 110] [--runs 5] [--seed 7] [--more]

Fairness notes, printed with the table:
- rg runs with `-uu` (no .gitignore rules, hidden files included: we search everything) and
  still skips binary files, as we do. It prints `path:line:text`; we build result dicts.
- rg has no global result cap (`-m` is per file). For capped patterns rg is timed like
  `rg ... | head -n CAP`: until CAP lines have arrived, then it is killed.
- rg is timed as a subprocess (includes ~5 ms process start); ours is an in-process call.
- rg uses all cores by default, and so do we past ~320 files (worker processes, one per core,
  kept between calls: the warm-up run starts them); `rg -j1` is shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _support import RawServer, module_at

from acontext_mcp.config import Settings
from acontext_mcp.disk import grep_pool
from acontext_mcp.disk.search import grep

DISK = "bench"
CORPUS_VERSION = 1
RARE = "QUOKKA_SENTINEL_7731"


@dataclass(frozen=True)
class Case:
    name: str
    pattern: str
    ignore_case: bool = False
    cap: int = 1000  # 1000 is our maximum; the uncapped cases have fewer hits than that.


CASES = [
    Case("literal, few hits", RARE),
    Case("literal, many hits (cap 100)", "return", cap=100),
    Case("regex, char classes", r"\b[A-Z]{3}-[0-9]{4}-[0-9]{4}\b"),
    Case("case-insensitive literal", "fixme_later", ignore_case=True),
]
# --more: shapes the prefilter (disk/prefilter.py) is for, outside the issue's four cases.
MORE_CASES = [
    Case("alternation of words", "FIXME_LATER|QUOKKA_SENTINEL"),
    Case("word boundary, ignore case", r"\bquokka_sentinel", ignore_case=True),
    Case("class repeat before a word", r"\w+_SENTINEL_\d+"),
]

# --- Corpus ---


def _vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "tor", "sa", "vel", "qu", "dra", "nis", "po", "zel"]
    common = [
        "data",
        "value",
        "result",
        "item",
        "config",
        "user",
        "request",
        "response",
        "cache",
        "index",
        "session",
        "token",
        "handler",
        "buffer",
        "stream",
        "record",
        "parser",
        "client",
        "server",
        "event",
        "queue",
        "worker",
        "task",
        "state",
        "error",
        "retry",
        "limit",
        "offset",
        "count",
        "path",
        "name",
        "key",
        "field",
        "schema",
        "model",
        "batch",
    ]
    made = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(1500)}
    return common * 8 + sorted(made)


class _Writer:
    """Realistic-looking lines; planted tokens make hit counts predictable."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.words = _vocabulary(rng)

    def ident(self) -> str:
        return "_".join(self.rng.choices(self.words, k=self.rng.randint(1, 3)))

    def camel(self) -> str:
        return "".join(w.capitalize() for w in self.rng.choices(self.words, k=2))

    def sentence(self) -> str:
        words = self.rng.choices(self.words, k=self.rng.randint(6, 16))
        return " ".join(words).capitalize() + "."

    def plant(self) -> str:
        roll = self.rng.random()
        if roll < 0.00005:
            return f"  # see {RARE} for context"
        if roll < 0.00085:
            code = f"{self.rng.choice(['INC', 'OPS', 'SEC'])}-20{self.rng.randint(10, 29)}-"
            return f"  # tracked as {code}{self.rng.randint(1000, 9999)}"
        if roll < 0.00145:
            return f"  # {self.rng.choice(['FIXME_LATER', 'fixme_later', 'FixMe_Later'])}"
        return ""

    def python(self, n: int) -> list[str]:
        out = [f'"""{self.sentence()}"""', "", "import os", f"from {self.ident()} import *", ""]
        while len(out) < n:
            out += [f"class {self.camel()}:", f'    """{self.sentence()}"""', ""]
            for _ in range(self.rng.randint(2, 6)):
                a, b = self.ident(), self.ident()
                out += [
                    f"    def {self.ident()}(self, {a}, {b}=None):",
                    f"        value = self.{self.ident()}({a}){self.plant()}",
                    "        if value is None:",
                    f"            return {b}",
                    f"        for item in self.{self.ident()}:",
                    f"            value.append(item.{self.ident()})  # {self.sentence()}",
                    "        return value",
                    "",
                ]
        return out

    def typescript(self, n: int) -> list[str]:
        out = [f"// {self.sentence()}", ""]
        while len(out) < n:
            name = self.camel()
            out += [f"export interface {name} {{"]
            out += [f"  {self.ident()}: string;" for _ in range(self.rng.randint(2, 5))]
            out += [
                "}",
                "",
                f"export function {self.ident()}(input: {name}): number {{",
                f"  const total = input.{self.ident()}.length;{self.plant()}",
                f"  return total + {self.rng.randint(0, 99)};",
                "}",
                "",
            ]
        return out

    def markdown(self, n: int) -> list[str]:
        out = [f"# {self.sentence()[:-1]}", ""]
        while len(out) < n:
            out += [f"## {self.camel()}", "", self.sentence() + " " + self.sentence(), ""]
            out += [f"- {self.sentence()}{self.plant()}" for _ in range(self.rng.randint(2, 5))]
            out += ["", "```python", f"return {self.ident()}()", "```", ""]
        return out

    def log(self, n: int) -> list[str]:
        out = []
        t = self.rng.randint(1_700_000_000, 1_800_000_000)
        for _ in range(n):
            t += self.rng.randint(0, 3)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
            level = self.rng.choice(["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"])
            out.append(
                f"{stamp}.{self.rng.randint(0, 999):03d}Z {level} {self.ident()} "
                f"request_id={self.rng.getrandbits(48):012x} "
                f"latency_ms={self.rng.randint(1, 900)} {self.sentence()}{self.plant()}"
            )
        return out

    def json(self, n: int) -> list[str]:
        items = [
            {self.ident(): self.sentence(), "id": i, "tags": self.rng.choices(self.words, k=3)}
            for i in range(n // 6)
        ]
        return json.dumps({"items": items}, indent=2).split("\n")


KINDS = [("py", "python", 40), ("ts", "typescript", 15), ("md", "markdown", 20)]
KINDS += [("log", "log", 15), ("json", "json", 10)]


def build_corpus(root: Path, size_mb: int, seed: int) -> None:
    """Write files until `size_mb` MB, in a few thousand files across nested directories."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    target = size_mb * 1_000_000
    total = 0
    index = 0
    exts = [k for k in KINDS for _ in range(k[2])]
    areas = [writer.ident() for _ in range(12)]
    while total < target:
        ext, kind, _weight = rng.choice(exts)
        lines = getattr(writer, kind)(int(rng.lognormvariate(5.9, 0.8)) + 20)
        data = ("\n".join(lines) + "\n").encode()
        folder = root / rng.choice(areas) / rng.choice(areas[:6]) / f"part{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{writer.ident()}_{index}.{ext}").write_bytes(data)
        total += len(data)
        index += 1
    for i in range(8):  # A few binary files, which both tools must skip.
        (root / f"asset_{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00" + rng.randbytes(50_000))


def ensure_corpus(base: Path, size_mb: int, seed: int) -> tuple[Settings, Path]:
    settings = Settings(home=base / "home", skills_dir=base / "skills")
    root = settings.disks_dir / DISK
    marker = base / "corpus.json"
    wanted = {"version": CORPUS_VERSION, "size_mb": size_mb, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == wanted and root.is_dir():
        return settings, root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    build_corpus(root, size_mb, seed)
    print(f"generated corpus in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    marker.write_text(json.dumps(wanted))
    return settings, root


def corpus_stats(root: Path) -> tuple[int, int]:
    count = size = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            count += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return count, size


# --- Timing ---


def _workers_cpu() -> float:
    """CPU seconds the grep worker processes have used so far (their scheduler statistics)."""
    pool = grep_pool._pool
    total = 0
    for worker in pool.workers if pool is not None else []:
        with open(f"/proc/{worker.process.pid}/schedstat") as stats:
            total += int(stats.read().split()[0])
    return total / 1e9


def time_ours(settings: Settings, case: Case, fn=grep) -> tuple[float, int, dict, float]:
    """Wall time, hits, the result, and the CPU time of this process and the workers."""
    cpu = time.process_time() + _workers_cpu()
    started = time.perf_counter()
    result = fn(
        settings,
        DISK,
        case.pattern,
        ignore_case=case.ignore_case,
        max_results=case.cap,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    return elapsed, len(result["matches"]), result, time.process_time() + _workers_cpu() - cpu


def load_baseline(rev: str):
    """`grep` from disk/search.py as it was at git revision `rev` (its imports resolve to
    today's modules), to time before and after in the same interleaved rounds."""
    return module_at(rev, "acontext_mcp/disk/search.py", "baseline_search").grep


def time_stdio(server: RawServer, case: Case) -> tuple[float, int, None]:
    arguments = {"disk": DISK, "pattern": case.pattern, "max_results": case.cap}
    if case.ignore_case:
        arguments["ignore_case"] = True
    started = time.perf_counter()
    result = server.call_tool("disk_grep", arguments)
    return time.perf_counter() - started, len(result["matches"]), None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_rg(root: Path, case: Case, *, threads: int | None) -> tuple[float, int, float]:
    """Wall time, lines, and rg's CPU time (user + system, all its threads)."""
    cmd = ["rg", "-uu", "--no-heading", "-n", "--color", "never"]
    if threads:
        cmd += ["-j", str(threads)]
    if case.ignore_case:
        cmd.append("-i")
    cmd += ["-e", case.pattern, str(root)]
    cpu = _children_cpu()
    started = time.perf_counter()
    if case.cap >= 1000:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, check=False).stdout
        return time.perf_counter() - started, out.count(b"\n"), _children_cpu() - cpu
    # `rg ... | head -n cap`: stop as soon as `cap` lines have arrived.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    lines = 0
    for _line in proc.stdout:
        lines += 1
        if lines == case.cap:
            break
    elapsed = time.perf_counter() - started
    proc.kill()
    proc.communicate()
    return elapsed, lines, _children_cpu() - cpu


def interleaved(
    runs: int, fns: dict[str, object]
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict]:
    """Each function once per round, round after round, so a busy machine slows all alike;
    returns every run's wall time and CPU time (a result's last item) per name, and each
    function's last result."""
    last = {name: fn() for name, fn in fns.items()}  # Warm-up: page cache, regex caches.
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpus: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            last[name] = fn()
            times[name].append(last[name][0])
            cpus[name].append(last[name][-1])
    return times, cpus, last


def paired_ratio(times: dict[str, list[float]], top: str, bottom: str) -> float:
    """Median of the per-round ratios: robust to load that changes from round to round."""
    return statistics.median(a / b for a, b in zip(times[top], times[bottom], strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "acx-grep")
    parser.add_argument("--size-mb", type=int, default=110)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", help="also time disk/search.py at this git revision")
    parser.add_argument("--more", action="store_true", help="also time the MORE_CASES shapes")
    args = parser.parse_args(argv)
    if not shutil.which("rg"):
        print("rg not found: apt-get install -y ripgrep", file=sys.stderr)
        return 1
    settings, root = ensure_corpus(args.dir, args.size_mb, args.seed)
    baseline = load_baseline(args.baseline) if args.baseline else None
    count, size = corpus_stats(root)
    mb = size / 1e6
    rg_version = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout
    print(f"corpus: {count} files, {mb:.1f} MB in {root}")
    print(f"{rg_version.splitlines()[0]}; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    print(f"load average at start: {_load()}")
    print(
        f"median of {args.runs} interleaved rounds after one warm-up; MB/s = corpus size / "
        "time; ratios are the median of the per-round ratios\n"
    )
    header = (
        f"{'case':<30} {'hits ours/rg':>13} {'ours ms':>8} {'ours MB/s':>9} "
        f"{'rg ms':>7} {'rg MB/s':>8} {'rg -j1 ms':>9} {'ours/rg':>7} {'ours/rg-j1':>10} "
        f"{'stdio ms':>8} {'stdio/rg':>8} {'cpu ours/rg':>11}"
    )
    print(header)
    print("-" * len(header))
    with RawServer(settings.home) as server:
        server.initialize()
        for case in CASES + (MORE_CASES if args.more else []):
            times, cpus, last = interleaved(
                args.runs,
                {
                    "ours": lambda c=case: time_ours(settings, c),
                    "rg": lambda c=case: time_rg(root, c, threads=None),
                    "rg1": lambda c=case: time_rg(root, c, threads=1),
                    "stdio": lambda c=case: time_stdio(server, c),
                    **(
                        {"before": lambda c=case: time_ours(settings, c, baseline)}
                        if baseline
                        else {}
                    ),
                },
            )
            ours, rg, rg1, stdio = (statistics.median(times[k]) for k in list(times)[:4])
            (_t, hits, result, _c), (_t, rg_hits, _c), (_t, stdio_hits, _c) = (
                last["ours"],
                last["rg"],
                last["stdio"],
            )
            assert stdio_hits == hits, (case.name, stdio_hits, hits)
            flag = "*" if result["truncated"] else " "
            print(
                f"{case.name:<30} {f'{hits}{flag}/{rg_hits}':>13} {ours * 1e3:>8.0f} "
                f"{mb / ours:>9.0f} {rg * 1e3:>7.0f} {mb / rg:>8.0f} {rg1 * 1e3:>9.0f} "
                f"{paired_ratio(times, 'ours', 'rg'):>6.1f}x "
                f"{paired_ratio(times, 'ours', 'rg1'):>9.1f}x {stdio * 1e3:>8.0f} "
                f"{paired_ratio(times, 'stdio', 'rg'):>7.1f}x "
                f"{paired_ratio(cpus, 'ours', 'rg'):>10.1f}x"
                + (
                    f"  before {statistics.median(times['before']) * 1e3:.0f} ms, "
                    f"{paired_ratio(times, 'before', 'rg'):.1f}x rg"
                    if baseline
                    else ""
                )
            )
    print(
        "\n* capped: both stop after the cap, so MB/s there is effective (corpus size / time),"
        "\n  and rg's first lines are not the sorted first lines that ours are."
        "\nrg: -uu (no ignore files, hidden included; binary still skipped), subprocess timed."
        "\ncpu: user + system time of ours (this process and the grep workers) and of rg, median"
        "\n  of the per-round ratios; it moves less with other work on the machine than wall time."
    )
    print(f"load average at end: {_load()}")
    return 0


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine changes every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())

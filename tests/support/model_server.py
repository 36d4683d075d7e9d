"""Run one of the scripted model servers (tests/support/*_model.py) for an end-to-end test.

Each such script binds 127.0.0.1 on a free port and writes the port to `--port-file`;
`model_server` starts it, waits for the port, yields it, and kills the server afterwards.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 20.0


@contextlib.contextmanager
def model_server(script: Path, port_file: Path, *args: str) -> Iterator[str]:
    """`python SCRIPT --port-file PORT_FILE ARGS...` until the block ends; yields the port."""
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port-file", str(port_file), *args],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists() or not port_file.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, "model did not start"
            time.sleep(0.05)
        yield port_file.read_text()
    finally:
        proc.kill()
        proc.wait()

"""Named leases in the store (`leases` table): at most one live holder per name.

The background worker holds `worker` for as long as it runs, renewing it well before it
expires; a worker that dies simply stops renewing, and once `until` passes anyone may take the
lease. Times are wall-clock seconds (time.time()): leases are shared between processes.
Stdlib only: hooks check the lease before starting a worker. The table operations are in
store/leases.py; this module names the holder.
"""

from __future__ import annotations

import os
import secrets
import socket

from acontext_mcp.store.leases import WORKER, acquire, current, release, renew

__all__ = ["WORKER", "acquire", "current", "new_holder", "release", "renew"]


def new_holder(prefix: str = "worker") -> str:
    """A holder id naming the process: `<prefix>:<host>:<pid>:<random>`."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

"""A small persistent pool of worker processes that search chunks of files for `grep`.

Threads cannot make grep faster (the GIL changes hands several times per file), processes can.
The pool starts on the first large search and stays for the life of the process. Workers are
fresh interpreters (never a fork of the threaded server), each talks over its own socket, and
each exits when that socket closes: when the server exits, even by SIGKILL, no worker is left.

Results come back in the order the jobs were given. A worker that dies or hangs has its jobs
searched in this process instead, and the pool is discarded; the next large search starts a new
one.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait

from acontext_mcp.disk.grepwork import ChunkResult, Job, search_chunk

log = logging.getLogger(__name__)

IN_FLIGHT = 4  # Jobs queued per worker: on a busy machine the caller is slow to send more.
HANG_GRACE = 5.0  # Seconds past a job's deadline before its worker counts as hung.


_START = "import sys; sys.path.insert(0, sys.argv[1]); import {0}; {0}.serve(int(sys.argv[2]))"


class _Worker:
    """One `python -c ... grepwork.serve(fd)` process and our end of its socket.

    A fresh interpreter rather than multiprocessing's spawn or forkserver, which re-import the
    caller's `__main__` in every worker (a script without a main guard would start workers of
    its own). stdin and stdout go nowhere: ours may be an MCP stdio stream.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _START.format("acontext_mcp.disk.grepwork"),
                    package_parent,
                    str(theirs.fileno()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.jobs: deque[tuple[int, Job]] = deque()  # Sent, answer not read yet.
        self.stale = 0  # Answers still to come for a search that stopped early.

    def stop(self) -> None:
        self.conn.close()  # The worker reads end of file and exits.
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=1)


class GrepPool:
    """Worker processes for `grep`; `imap` runs one search at a time."""

    def __init__(self, workers: int) -> None:
        self.workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self.workers.append(_Worker())
        except BaseException:
            self.close()
            raise
        self.broken = False

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []
        self.broken = True

    def _drop(self, worker: _Worker, results: dict[int, ChunkResult]) -> None:
        """Search a lost worker's jobs here, and retire the whole pool after this search."""
        log.warning("a disk_grep worker failed; searching its files in the server process")
        self.broken = True
        while worker.jobs:
            index, job = worker.jobs.popleft()
            results[index] = search_chunk(job)
        self.workers.remove(worker)
        worker.stop()

    def _receive(self, worker: _Worker, results: dict[int, ChunkResult]) -> None:
        try:
            status, payload = worker.conn.recv()
        except (EOFError, OSError):
            self._drop(worker, results)
            return
        if worker.stale:
            worker.stale -= 1
            return
        index, job = worker.jobs.popleft()
        results[index] = payload if status == "ok" else search_chunk(job)

    def imap(self, jobs: Iterator[Job]) -> Iterator[ChunkResult]:
        """Each job's result, in the jobs' order; stop iterating to stop the search early
        (answers still on their way are skipped by the next search)."""
        results: dict[int, ChunkResult] = {}
        sent = wanted = 0
        exhausted = False
        try:
            while True:
                while not exhausted:
                    idle = [w for w in self.workers if len(w.jobs) + w.stale < IN_FLIGHT]
                    if not idle:
                        break
                    job = next(jobs, None)
                    if job is None:
                        exhausted = True
                        break
                    worker = min(idle, key=lambda w: len(w.jobs) + w.stale)
                    try:
                        worker.conn.send(job)
                    except OSError:
                        results[sent] = search_chunk(job)
                        self._drop(worker, results)
                    else:
                        worker.jobs.append((sent, job))
                    sent += 1
                if wanted in results:
                    yield results.pop(wanted)
                    wanted += 1
                    continue
                busy = [w for w in self.workers if w.jobs or w.stale]
                if not busy:
                    if exhausted:
                        return
                    job = next(jobs, None)  # No worker left: search here.
                    if job is None:
                        exhausted = True
                        continue
                    results[sent] = search_chunk(job)
                    sent += 1
                    continue
                conns = [w.conn for w in busy]
                if not exhausted and not wait(conns, 0):
                    job = next(jobs, None)  # Every worker has work queued: search one here.
                    if job is None:
                        exhausted = True
                    else:
                        results[sent] = search_chunk(job)
                        sent += 1
                    continue
                deadline = min((w.jobs[0][1][4] for w in busy if w.jobs), default=time.monotonic())
                ready = wait(
                    conns,
                    timeout=max(0.0, deadline - time.monotonic()) + HANG_GRACE,
                )
                if not ready:
                    for worker in busy:
                        worker.process.kill()  # Hung: its pipe breaks, its jobs come here.
                by_conn = {id(w.conn): w for w in busy}
                for conn in ready or conns:
                    worker = by_conn[id(conn)]
                    if worker in self.workers:
                        self._receive(worker, results)
        finally:
            for worker in self.workers:
                worker.stale += len(worker.jobs)
                worker.jobs.clear()


_lock = threading.Lock()  # One search uses the pool at a time; others search in-process.
_pool: GrepPool | None = None
_guard = threading.Lock()


def worker_count() -> int:
    """Worker processes a pool would have: the cores this process may run on, up to 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores, 8)


def acquire() -> GrepPool | None:
    """The shared pool, started if needed, reserved for the caller until `release`; None when
    another search holds it or this machine has a single core."""
    global _pool
    if worker_count() < 2 or not _lock.acquire(blocking=False):
        return None
    try:
        with _guard:
            if _pool is not None and _pool.broken:
                _pool.close()
                _pool = None
            if _pool is None:
                _pool = GrepPool(worker_count())
            return _pool
    except Exception:
        _lock.release()
        log.warning("could not start disk_grep workers; searching in one process", exc_info=True)
        return None


def release() -> None:
    _lock.release()


@atexit.register
def shutdown() -> None:
    """Stop the workers (also run at exit; a worker whose pipe closes exits by itself)."""
    global _pool
    with _guard:
        if _pool is not None:
            _pool.close()
            _pool = None

"""A small progress bar on stderr for long CLI commands: stdlib only, no dependency.

On a terminal it redraws one line in place (at most ten times a second); anywhere else (a log,
a pipe, CI) it prints a whole line every `interval` seconds or every `every` items, so the
output stays readable and short. Progress is measured in bytes; the caller adds its counters.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

_REDRAW = 0.1  # seconds between terminal redraws


def human_bytes(n: float) -> str:
    """Decimal units, as `acontext-mcp status` prints them: 950 B, 12.3 kB, 48.1 MB, 1.2 GB."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def clock_text(seconds: float) -> str:
    """m:ss below an hour, else h:mm:ss."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Bytes done of `total`, with rate and ETA, plus the caller's detail text.

    `update(done, count=..., detail=...)` after each unit of work; `close()` once at the end.
    """

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        tty: bool | None = None,
        interval: float = 5.0,
        every: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(0, total)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval, self.every, self.clock = interval, every, clock
        self.started = clock()
        self.done, self.count, self.detail = 0, 0, ""
        self._drawn_at = float("-inf")
        self._printed_at, self._printed_count = self.started, 0
        self._width = 0  # length of the line drawn last (terminal mode)

    # --- Numbers ---

    def elapsed(self) -> float:
        return max(self.clock() - self.started, 1e-9)

    def rate(self) -> float:
        """Bytes per second so far."""
        return self.done / self.elapsed()

    def eta(self) -> float | None:
        rate = self.rate()
        if not self.done or rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / rate)

    def line(self) -> str:
        pct = 100.0 if not self.total else min(100.0, 100.0 * self.done / self.total)
        eta = self.eta()
        parts = [
            f"{pct:3.0f}%",
            f"{human_bytes(self.done)}/{human_bytes(self.total)}",
            self.detail,
            f"{human_bytes(self.rate())}/s",
            f"ETA {clock_text(eta)}" if eta is not None else "ETA --:--",
        ]
        return "  ".join(p for p in parts if p)

    # --- Drawing ---

    def update(self, done: int, *, count: int = 0, detail: str = "") -> None:
        self.done, self.count, self.detail = done, count, detail
        now = self.clock()
        if self.tty:
            if now - self._drawn_at >= _REDRAW:
                self._draw()
                self._drawn_at = now
        elif now - self._printed_at >= self.interval or count - self._printed_count >= self.every:
            self._write(self.line() + "\n")
            self._printed_at, self._printed_count = now, count

    def close(self) -> None:
        """Draw the final state: the finished bar on a terminal (then a newline), else nothing
        (the caller prints its own summary line)."""
        if self.tty:
            self._draw()
            self._write("\n")

    def note(self, text: str) -> None:
        """Print a line of text without garbling the bar (terminal: above it)."""
        if self.tty and self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0
        self._write(text.rstrip("\n") + "\n")
        if self.tty:
            self._draw()

    def _draw(self) -> None:
        columns = shutil.get_terminal_size((100, 20)).columns
        text = self.line()
        bar_width = max(0, min(30, columns - len(text) - 4))
        if bar_width >= 10:
            filled = bar_width if not self.total else bar_width * self.done // self.total
            filled = min(bar_width, filled)
            text = "[" + "#" * filled + "." * (bar_width - filled) + "] " + text
        text = text[: max(1, columns - 1)]
        pad = max(0, self._width - len(text))
        self._write("\r" + text + " " * pad)
        self._width = len(text)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: progress is not worth failing
            pass

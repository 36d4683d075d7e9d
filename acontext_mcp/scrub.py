"""Keep the data home's absolute path out of what a client or model is shown.

Tool errors reach the model, and the server's stderr reaches the agent's logs: a path such as
`/home/alice/.acontext-mcp/disks/x` names the user and the layout of the machine. Errors say
`<home>/disks/x` instead; the file log under the data home keeps full paths for the owner.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from acontext_mcp.config import Settings


def _spellings(path: Path) -> list[str]:
    """The path as given and as resolved (e.g. /tmp vs /private/tmp); never the root alone."""
    return [p for p in {str(path.absolute()), os.path.realpath(path)} if len(p) > 1]


def scrub_paths(text: str, settings: Settings) -> str:
    """`text` with the data home as `<home>` and a skills directory outside it as `<skills>`
    (longest spelling first, so `<home>/disks/x` keeps its tail)."""
    labels: dict[str, str] = {}
    if not settings.skills_dir.is_relative_to(settings.home):
        labels.update(dict.fromkeys(_spellings(settings.skills_dir), "<skills>"))
    for spelling in _spellings(settings.home):
        labels[spelling] = "<home>"
    for path in sorted(labels, key=len, reverse=True):
        # a whole path component only: /data/home-old is not <home>-old
        text = re.sub(re.escape(path) + r"(?![\w-]|\.\w)", labels[path], text)
    return text


class ScrubbingFormatter(logging.Formatter):
    """Wraps a handler's formatter so each formatted line (traceback included) is scrubbed."""

    def __init__(self, inner: logging.Formatter | None, settings: Settings) -> None:
        super().__init__()
        self._inner = inner or logging.Formatter()
        self._settings = settings

    def format(self, record: logging.LogRecord) -> str:
        return scrub_paths(self._inner.format(record), self._settings)


def scrub_stderr_logs(settings: Settings) -> None:
    """Scrub what the root logger's stream handlers (stderr) print; file logs keep paths."""
    for handler in logging.getLogger().handlers:
        plain_stream = type(handler) is logging.StreamHandler
        if plain_stream and not isinstance(handler.formatter, ScrubbingFormatter):
            handler.setFormatter(ScrubbingFormatter(handler.formatter, settings))

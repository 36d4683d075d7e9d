"""The process umask: owner-only for the data home, the user's own remembered for the rest.

Its own module, importing nothing but `os`, because the hook's detaching parent sets it and
must stay that light (see private.py for why the umask is 077).
"""

from __future__ import annotations

import os

PRIVATE_UMASK = 0o077

_user_umask: int | None = None  # the umask we replaced; None until restrict_umask runs


def restrict_umask() -> None:
    """Make everything this process (and its children) creates owner-only; remembers the
    user's umask for files outside the data home. Safe to call twice."""
    global _user_umask
    previous = os.umask(PRIVATE_UMASK)
    if _user_umask is None:
        _user_umask = previous


def user_umask() -> int:
    """The umask the user ran us with (the current one if `restrict_umask` never ran)."""
    if _user_umask is not None:
        return _user_umask
    current = os.umask(PRIVATE_UMASK)
    os.umask(current)
    return current


def user_mode(mode: int) -> int:
    """`mode` (0o666 for a file, 0o777 for a dir or script) as the user's umask leaves it."""
    return mode & ~user_umask() & 0o777

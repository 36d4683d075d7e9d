"""One small error hierarchy. Messages say what to do next; edges translate them once."""

from __future__ import annotations


class AcontextError(Exception):
    """Base for every error a user or a model can act on."""


class NotFound(AcontextError):
    """A session, message, artifact, disk or skill does not exist."""


class InvalidInput(AcontextError):
    """Arguments or payloads that cannot be accepted as given."""


class PathEscape(InvalidInput):
    """A path would leave the root it is confined to."""


class TooLarge(InvalidInput):
    """A payload is over a configured size cap."""


class SearchTimeout(AcontextError):
    """A search ran past its time bound (results so far may still be returned)."""


class SchemaTooNew(AcontextError):
    """The database was written by a newer acontext-mcp than this one."""

"""Clipping text for prompts and one-line listings: the start kept, an ellipsis when cut.

The one clipper (issue 11): disk/search.py keeps its own, which shows the window around a
match rather than the start of a line.
"""

from __future__ import annotations


def clip(text: str, limit: int, *, tail: str | None = None, at_word: bool = False) -> str:
    """`text` stripped, cut to `limit` characters with "…" when longer. With `tail`, the first
    `limit` characters are kept and `tail` is appended, `{n}` in it replaced by the number of
    characters cut: a model reading it knows how much it did not see. With `at_word`, the cut
    falls between words (a commit subject, a title), unless the first word alone is too long."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if tail is not None:
        return text[:limit] + tail.replace("{n}", str(len(text) - limit))
    kept = text[: limit - 1]
    if not at_word:
        return kept.rstrip() + "…"
    if not text[limit - 1].isspace() and (space := kept.rfind(" ")) > 0:
        kept = kept[:space]
    return kept.rstrip(" ,;:-") + "…"


def one_line(text: str, limit: int) -> str:
    """`clip` after folding all whitespace (newlines included) to single spaces."""
    return clip(" ".join(text.split()), limit)

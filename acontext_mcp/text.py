"""Clipping text for prompts and one-line listings: the start kept, an ellipsis when cut."""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    """`text` stripped, cut to `limit` characters with "…" when longer."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def one_line(text: str, limit: int) -> str:
    """`clip` after folding all whitespace (newlines included) to single spaces."""
    return clip(" ".join(text.split()), limit)

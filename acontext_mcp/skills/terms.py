"""Free text to the words worth looking for, and to a safe FTS5 MATCH expression.

Its own module, with nothing but `re` behind it, so a hook on the hot path (the prompt's
lesson lookup) can build the same query as `search_skills` without importing the index.
"""

from __future__ import annotations

import re

from acontext_mcp.errors import InvalidInput
from acontext_mcp.skills.stop_words import STOP_WORDS as STOP_WORDS  # re-exported

MAX_TERMS = 16
_WORD_RUN = re.compile(r"\w+(?:[-.]\w+)*")
_WORD = re.compile(r"\w+")


def query_terms(query: str) -> list[str]:
    """The words (a hyphenated run as one phrase, its words joined by spaces) of free text worth
    looking for: stop words dropped unless the text has nothing else, duplicates once."""
    if not isinstance(query, str):
        raise InvalidInput("query must be a string of words to look for")
    runs: list[str] = []
    for run in _WORD_RUN.findall(query.lower()):
        words = " ".join(_WORD.findall(run))
        if words and words not in runs:
            runs.append(words)
    if not runs:
        raise InvalidInput("query needs at least one word (letters or digits) to search for")
    kept = [run for run in runs if run not in STOP_WORDS]
    return (kept or runs)[:MAX_TERMS]


def fts_query(query: str, *, any_term: bool = False) -> str:
    """A safe FTS5 MATCH expression for free user text: quoted phrases joined by AND or OR
    (OR: bm25 still ranks a file holding more of them higher).

    Raises InvalidInput when the text holds no word at all.
    """
    phrases = [f'"{run}"' for run in query_terms(query)]
    return (" OR " if any_term else " AND ").join(phrases)

"""Free text to the words worth looking for, and to a safe FTS5 MATCH expression.

Its own module, with nothing but `re` behind it, so a hook on the hot path (the prompt's
lesson lookup) can build the same query as `search_skills` without importing the index.
"""

from __future__ import annotations

import re

from acontext_mcp.errors import InvalidInput

MAX_TERMS = 16
_WORD_RUN = re.compile(r"\w+(?:[-.]\w+)*")
_WORD = re.compile(r"\w+")

# Words that say how a question is asked, not what it is about: matched with OR they would
# pull in every file. Words that can carry meaning in a command ("run", "make", "use", "not",
# "never") are not among them.
_STOP_WORDS = """a about after again all also am an and any are as at be been before being but
    by can could did do does doing for from had has have having he her here hers him his how i if in
    into is it its itself me my myself of on once only or other our ours ought she should so
    some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would
    you your yours yourself"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


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

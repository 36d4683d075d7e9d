"""The content words of a prompt: what a learned entry must share with it to be worth showing.

Read before the prompt hook decides whether to answer at all (hooks/__init__.py, before it
imports anything else), so it is `re` only. Chit-chat ("thanks", "continue", "yes") has none.
"""

from __future__ import annotations

import re

# Words that carry no lesson: chit-chat ("thanks", "continue", "yes"), the glue of requests, and
# the verbs and nouns any coding request has ("add", "change", "file", "code"): two of those in
# common must not make an entry match.
_STOP = """
a about above after again ah ahead all also am an and any anything are as ask at awesome be
been before being but by bye can cannot continue cool could did do does doing don done each
else even ever every few fine for from further get gets getting go goes going gone good got
great had has have having he hello her here hers hey hi him his hmm how i if im in into is it
itll its ive just kind know let lets lgtm like look make me mine more most much must my need
needs nice no nope not now nvm of off ok okay on once one only or other our ours out over
perfect please pls proceed really right same see she should so some something sorry still
such sure than thank thanks that thats the their them then there these they thing things
think this those through thx to too try up us use used very wait want was way we well were what
whats when where which while who why will with would yeah yep yes you your yours
add adding change changes changed update updated create created write wrote written new file
files code stuff bug bugs problem problems issue issues question help show tell give find
explain implement everything nothing
"""
STOPWORDS = frozenset(_STOP.split())
MIN_TERMS = 2  # fewer content words than this: the prompt gets no lesson
_WORD = re.compile(r"[^\W_]+")


def prompt_terms(prompt: str) -> list[str]:
    """The content words of a prompt, in order, once each (stopwords and 1-2 letter words
    dropped): what an entry must share with it to be worth injecting."""
    out: list[str] = []
    seen: set[str] = set()
    for word in _WORD.findall(prompt.casefold()):
        if len(word) < 3 or word in STOPWORDS or word.isdigit() or word in seen:
            continue
        seen.add(word)
        out.append(word)
    return out


def may_match(prompt: str) -> bool:
    """Whether the prompt has enough content words for any entry to pass the threshold."""
    return len(prompt_terms(prompt)) >= MIN_TERMS

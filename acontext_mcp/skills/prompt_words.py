"""The content words of a prompt: what a learned entry must share with it to be worth showing.

Read before the prompt hook decides whether to answer at all (hooks/__init__.py, before it
imports anything else), so it imports nothing: words are found with str methods, not `re`
(whose import alone is ~3 ms of the hook's budget). Chit-chat ("thanks", "continue", "yes")
has none.
"""

from __future__ import annotations

from acontext_mcp.skills.stop_words import STOP_WORDS

# Words that carry no lesson: the search's stop words (how a question is asked,
# skills/terms.py), plus chit-chat ("thanks", "continue", "yes") and the verbs and nouns any
# coding request has ("add", "change", "file", "code"): two of those in common must not make
# an entry match.
_CHAT_AND_REQUESTS = """
above add adding ah ahead anything ask awesome bug bugs bye cannot change changed changes code
continue cool create created don done each else even ever every everything explain few file
files find fine further get gets getting give go goes going gone good got great hello help hey
hi hmm im implement issue issues itll ive just kind know let lets lgtm like look make mine more
most much must need needs new nice no nope not nothing now nvm off ok okay one out over perfect
please pls problem problems proceed question really right same see show something sorry still
stuff sure tell thank thanks thats thing things think thx try update updated us use used wait
want way well whats write written wrote yeah yep yes
"""
STOPWORDS = STOP_WORDS | frozenset(_CHAT_AND_REQUESTS.split())
MIN_TERMS = 2  # fewer content words than this: the prompt gets no lesson


def prompt_terms(prompt: str) -> list[str]:
    """The content words of a prompt, in order, once each (stopwords and 1-2 letter words
    dropped): what an entry must share with it to be worth injecting."""
    out: list[str] = []
    seen: set[str] = set()
    for word in words(prompt.casefold()):
        if len(word) < 3 or word in STOPWORDS or word.isdigit() or word in seen:
            continue
        seen.add(word)
        out.append(word)
    return out


def may_match(prompt: str) -> bool:
    """Whether the prompt has enough content words for any entry to pass the threshold."""
    return len(prompt_terms(prompt)) >= MIN_TERMS


def words(text: str) -> list[str]:
    """The runs of letters and digits in `text`, as `re.findall(r"[^\\W_]+", text)` finds
    them (`\\w` is `str.isalnum()` plus "_"). Split at whitespace first, in C; only a piece
    holding punctuation is walked character by character."""
    out: list[str] = []
    for piece in text.split():
        if piece.isalnum():
            out.append(piece)
            continue
        run: list[str] = []
        for ch in piece:
            if ch.isalnum():
                run.append(ch)
            elif run:
                out.append("".join(run))
                run = []
        if run:
            out.append("".join(run))
    return out

"""The search's stop words, in a module of their own that imports nothing.

The search (skills/terms.py) and the prompt hook (skills/prompt_words.py) drop the same
words; the prompt hook runs before the user's prompt reaches the model, so it must not pay
for `re`, which terms.py needs.
"""

from __future__ import annotations

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

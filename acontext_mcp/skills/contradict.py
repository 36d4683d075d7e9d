"""Contradicting statements: which of two things the user (or a runbook) said replaces the other.

The brief shows the user's facts, their raw task preferences and the project's runbook entries
together; "format with black" next to "never run black" helps no agent. The rule, small and
explainable rather than clever:

- Each statement is cut into clauses (at `,;:.!?`, "but", and "and"/"then" before a verb) and
  each clause into terms (content words, lightly stemmed; code spans kept whole as words and
  flags). A negation cue ("never", "don't", "avoid", "no longer", "instead of", "rather than",
  "prefer ... over", "not", "stop using", "replace X with Y", "switch from X to Y") makes the
  terms after it *negated*; the terms before it stay *asserted*. "X does not work" negates the
  whole clause (an observation about X, not an endorsement of it).
- Two statements contradict when one negates a set of terms that the other asserts in full:
  "never run black" {black} against "format with black" {format, black}. A narrower negation
  does not touch a broader assertion: "don't run black on generated code" {black, generat,
  code} leaves "format with black" alone, and "use ruff for lint" has nothing negated, so it
  stands beside "use black".
- The newer statement wins; the older is hidden. A trap asserts nothing (it tells what went
  wrong, not what to do), and a procedure (a runbook entry) never overrules what the user
  stated: only a user statement replaces a user statement.
- Two statements that say the same (same words once normalised) keep only the newer.

Standard library only: the SessionStart brief (a hook) runs it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

USER = "user"  # a fact or preference the user stated
PROCEDURE = "procedure"  # a runbook entry: what worked
TRAP = "trap"  # a runbook trap: what went wrong


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Patterns as text: `re` compiles them on first use, so a brief with nothing to compare
# pays nothing at import.
_CODE = r"`([^`]*)`"
_WORD = r"--?[a-z0-9][\w.+/-]*|[a-z0-9][\w.+/'-]*|[,;:!?]|\.(?=\s|$)"
_CODE_WORD = r"--?[a-z0-9][\w+-]*|[a-z0-9][\w+-]*"
_BREAKS = frozenset(",;:!?.")
_BREAK_WORDS = _BREAKS | {"but", "and", "then"}  # "and"/"then" only before a verb

_STOP = _set(
    """
    a an the and or but if so to of in on at by for with from into onto as via per is are was
    were be been being am it its this that these those there here then than such very just also
    only too all any each every some both either do does did done doing have has had having can
    could should would will shall may might must i me my mine we us our you your he she they
    them their his her him user users person people someone prefer prefers preferred preferring
    preference preferences want wants wanted like likes liked love loves use uses used using run
    runs ran running always usually often sometimes generally please need needs needed get gets
    got work works worked working way thing things when while before after during about what
    which who how why where whenever one ones it's don't instead rather over than again here
    longer stop stops stopped quit switch switches switched move moves moved migrate migrates
    migrated change changed replace replaces replaced hand hands manual manually default
    defaults time times case cases place places lot lots
    """
)
# A "not" after one of these is an observation ("pip does not work"): the clause is negated.
_AUX = _set(
    "is are was were does did has have had can could will would isn't aren't wasn't weren't "
    "doesn't didn't hasn't haven't hadn't can't cannot couldn't won't wouldn't"
)
_LEAD = _set("never avoid avoids avoided no not don't shouldn't mustn't dont")
_PAIRS = {("instead", "of"), ("rather", "than"), ("no", "longer"), ("do", "not")}
_STOP_USING = _set("stop stops stopped quit")
_PREFER = _set("prefer prefers preferred favor favors favour favours choose chooses")
_SWITCH = _set("switch switches switched move moves moved migrate migrates migrated change changed")
_REPLACE = _set("replace replaces replaced")
_SPECIAL = (_LEAD | _AUX | _PREFER | _REPLACE | {second for _, second in _PAIRS}) | _set(
    "using over from to with by"
)
_VERBS = _set(
    "use run prefer install format write keep add call try put always never avoid don't do"
)


class Statement:
    """One thing said. `when` is when it was last said or seen (epoch seconds); `order` its
    place in its `source` (a later line of one file is newer); `dated` False when `when` is
    only its file's modification time (a bullet without evidence). A plain class, not a
    dataclass: the hook that builds the brief imports this module."""

    __slots__ = (
        "asserted", "dated", "kind", "negated", "normal", "order", "source", "text", "when",
    )  # fmt: skip

    def __init__(
        self,
        text: str,
        when: float,
        *,
        kind: str = USER,
        source: str = "",
        order: int = 0,
        dated: bool = True,
    ) -> None:
        self.text, self.when, self.kind = text, when, kind
        self.source, self.order, self.dated = source, order, dated
        self.asserted, self.negated = polarity(text)
        self.normal = _normal(text)
        if kind == TRAP:
            self.asserted = frozenset()

    def __repr__(self) -> str:
        return f"Statement({self.text!r}, {self.when!r}, kind={self.kind!r})"


def stem(word: str) -> str:
    """A light suffix strip, the same on both sides of a comparison: formatting, formatted
    and formats all become `format`; tools, flags and versions stay as they are."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us")):
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2]:
        word = word[:-1]
    return word


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, is_code) in order; code spans give words and flags only, never cues."""
    out: list[tuple[str, bool]] = []
    text = text.casefold().replace("\u2019", "'")
    for i, part in enumerate(re.split(_CODE, text)):
        if i % 2:
            out += [(w.rstrip(".-"), True) for w in re.findall(_CODE_WORD, part)]
        else:
            out += [(w.rstrip("'./").removesuffix("'s"), False) for w in re.findall(_WORD, part)]
    return out


def _clauses(tokens: list[tuple[str, bool]]) -> list[list[tuple[str, bool]]]:
    clauses: list[list[tuple[str, bool]]] = [[]]
    for i, (tok, code) in enumerate(tokens):
        if not code and tok in _BREAK_WORDS:
            nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
            if tok in _BREAKS or tok == "but" or nxt in _VERBS:
                clauses.append([])
                continue
        clauses[-1].append((tok, code))
    return [c for c in clauses if c]


_TERMS: dict[str, str | None] = {}  # token -> term: the same words recur across statements


def _term(tok: str) -> str | None:
    term = _TERMS.get(tok, "")
    if term != "":
        return term
    if tok.startswith("-"):
        term = tok if len(tok) > 1 else None
    elif len(tok) < 2 or tok in _STOP or tok in _LEAD or tok in _AUX:
        term = None
    else:
        term = stem(tok)
    if len(_TERMS) > 50_000:
        _TERMS.clear()
    _TERMS[tok] = term
    return term


def _clause_polarity(clause: list[tuple[str, bool]]) -> tuple[set[str], set[str]]:
    pos: set[str] = set()
    neg: set[str] = set()
    negating = False
    prefer_seen = False
    for i, (tok, code) in enumerate(clause):
        if not code and tok in _SPECIAL:
            prev = clause[i - 1][0] if i and not clause[i - 1][1] else ""
            nxt = clause[i + 1][0] if i + 1 < len(clause) and not clause[i + 1][1] else ""
            if tok in _PREFER:
                prefer_seen = True
            if tok in _AUX and (tok.endswith("n't") or tok == "cannot" or nxt == "not"):
                return set(), {t for t in (_term(w) for w, _ in clause) if t}
            cue = (
                tok in _LEAD
                or (prev, tok) in _PAIRS
                or (tok == "using" and prev in _STOP_USING)
                or (tok == "over" and prefer_seen)
                or (tok == "from" and prev in _SWITCH)
                or (tok in _REPLACE and nxt != "by")
            )
            if cue:
                negating = True
                continue
            if (tok in ("to", "with") and negating and _switching(clause, i)) or (
                tok == "by" and prev in _REPLACE
            ):
                if tok == "by":  # "X was replaced by Y": X is the old one
                    neg |= pos
                    pos = set()
                negating = False
                continue
        term = _term(tok)
        if term:
            (neg if negating else pos).add(term)
    return pos, neg


def _switching(clause: list[tuple[str, bool]], at: int) -> bool:
    """Whether a "to"/"with" at `at` ends the old half of "switch from X to Y" or
    "replace X with Y"."""
    before = [t for t, code in clause[:at] if not code]
    return any(t in _REPLACE for t in before) or any(
        a in _SWITCH and b == "from" for a, b in itertools.pairwise(before)
    )


def polarity(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(asserted terms, negated terms) of a statement."""
    pos: set[str] = set()
    neg: set[str] = set()
    for clause in _clauses(_tokens(text)):
        p, n = _clause_polarity(clause)
        pos |= p
        neg |= n
    return frozenset(pos), frozenset(neg)


def _normal(text: str) -> str:
    words = re.findall(r"[\w'-]+", text.casefold())
    while words and words[0] in ("the", "user", "user's"):
        words.pop(0)
    return " ".join(words)


def is_newer(a: Statement, b: Statement) -> bool:
    """Whether `a` was said after `b`. In one file, a bullet without evidence is placed by its
    line (appended lines are newer); otherwise by time, then by line."""
    if a.source == b.source and not (a.dated and b.dated):
        return a.order > b.order
    if a.when != b.when:
        return a.when > b.when
    return a.order > b.order


def contradicts(older: Statement, newer: Statement) -> bool:
    """Whether `newer` replaces `older`: they negate each other (see the module docstring) or
    say the same thing; a procedure or trap never replaces a user statement."""
    if older.kind == USER and newer.kind != USER:
        return False
    if older.normal == newer.normal:
        return True
    return bool(
        (newer.negated and newer.negated <= older.asserted)
        or (older.negated and older.negated <= newer.asserted)
    )


def resolve(statements: Sequence[Statement]) -> list[bool]:
    """Which statements stay (True) and which a newer one replaces (False), in input order.
    Only a statement that stays can replace another."""
    order = sorted(
        range(len(statements)),
        key=lambda i: (statements[i].when, statements[i].order),
        reverse=True,
    )
    # Newest first; a stable pass with is_newer's file-order rule for undated bullets.
    order = _newest_first(statements, order)
    keep = [True] * len(statements)
    # The statements kept so far, indexed by their terms: only one sharing a term of opposite
    # sign (or the same text) can replace a statement, so a brief's hundred statements cost a
    # few hundred lookups rather than five thousand comparisons.
    by_negated: dict[str, list[Statement]] = {}
    by_asserted: dict[str, list[Statement]] = {}
    by_normal: dict[str, list[Statement]] = {}
    for i in order:
        older = statements[i]
        rivals = list(by_normal.get(older.normal, ()))
        for term in older.asserted:
            rivals += by_negated.get(term, ())
        for term in older.negated:
            rivals += by_asserted.get(term, ())
        if any(is_newer(k, older) and contradicts(older, k) for k in rivals):
            keep[i] = False
            continue
        by_normal.setdefault(older.normal, []).append(older)
        for term in older.negated:
            by_negated.setdefault(term, []).append(older)
        for term in older.asserted:
            by_asserted.setdefault(term, []).append(older)
    return keep


def _newest_first(statements: Sequence[Statement], order: list[int]) -> list[int]:
    """`order` (by time) corrected so that undated bullets of one file keep their line order:
    insertion by is_newer, which is cheap for the few dozen statements a brief holds."""
    out: list[int] = []
    for i in order:
        at = len(out)
        while at > 0 and is_newer(statements[i], statements[out[at - 1]]):
            at -= 1
        out.insert(at, i)
    return out

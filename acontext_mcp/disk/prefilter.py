"""A cheap test that rules a file out before `grep` decodes and searches it.

The `regex` engine pays per text position for some pattern shapes that ripgrep answers at
memchr speed: an alternation of words (`TODO|FIXME`, 10x a plain word), a class repeat before a
word (`\\w+Error`, 100x), a word boundary before a class (`\\b[A-Z]{3}`, 2x the same pattern
without it). Every match of such a pattern contains one of a few literal strings, or matches a
weaker pattern that runs fast; a file without them cannot match, so it is counted as scanned
without the full search, and a file with them is searched exactly as before.

The analysis reads the `regex` module's own parse tree, so it sees the pattern as the search
will (its syntax is not Python's `re`: `{e<=1}` is fuzzy matching there, `[[:alpha:]]` a class).
A node it does not know requires nothing; any failure means no prefilter, never a wrong one.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import regex

log = logging.getLogger(__name__)

MAX_SET = 8  # Literal strings per alternative set: more cost more `in` scans than they save.
MIN_NEEDLE = 3  # Shortest literal worth a scan: one or two characters occur in most files.
QUANTIFIERS = frozenset("*+?{")

# (exact, needed): `exact` is every string the node can match (None when unknown or too many);
# `needed` a set of which every match contains at least one (None when nothing is known).
Facts = tuple[frozenset[str] | None, frozenset[str] | None]
UNKNOWN: Facts = (None, None)
EMPTY: Facts = (frozenset([""]), None)


@dataclass(frozen=True)
class Prefilter:
    """`needles`: every match contains one of them (lower case when `fold`). `weak`: the
    pattern without its leading word boundary, so it matches at every position where the
    pattern does, only faster; `weak_ascii` is the same on bytes, set when it answers alike on
    every ASCII text (an ASCII file is then never decoded). Needles or `weak`, never both."""

    needles: tuple[str, ...] = ()
    fold: bool = False
    weak: Any = None  # regex.Pattern[str]: regex ships no type hints.
    weak_ascii: Any = None  # regex.Pattern[bytes]
    by_line: bool = False  # Search only the lines that hold a needle (see `finder`).

    @functools.cached_property
    def _ascii_tests(self) -> tuple[Callable[[bytes], object], ...]:
        """One test per needle on an ASCII file's bytes: a substring test, or a search with
        ASCII case folding (the file is ASCII, and folded needles are too). The search runs
        from the end: `regex` finds a rare folded literal 10-25% faster that way, and whether
        it occurs is all that is asked."""
        if self.fold:
            flags = regex.IGNORECASE | regex.REVERSE
            return tuple(
                regex.compile(regex.escape(n.encode()), flags).search for n in self.needles
            )
        return tuple(functools.partial(_holds, n.encode()) for n in self.needles)

    def rules_out_ascii(self, data: bytes, deadline: float) -> bool:
        """True when ASCII `data` cannot match, judged on its bytes (False when only the
        decoded text can tell). TimeoutError past the deadline."""
        if self.needles:
            return not any(test(data) for test in self._ascii_tests)
        return self.weak_ascii is not None and not _search(self.weak_ascii, data, deadline)

    def rules_out_text(self, text: str, ascii: bool, deadline: float) -> bool:
        """True when a decoded text cannot match, for what `rules_out_ascii` left open.
        Folded needles say nothing about a non-ASCII text (the Kelvin sign matches "k" when
        ignoring case), so never then. TimeoutError past the deadline."""
        if ascii and (self.needles or self.weak_ascii is not None):
            return False  # Already judged on the bytes.
        if self.weak is not None:
            return not _search(self.weak, text, deadline)
        if self.fold:
            return False
        return not any(needle in text for needle in self.needles)

    def finder(self, text: str) -> Callable[[int], int]:
        """For a pattern that starts with no literal and never matches a newline (`\\w+Error`,
        `.*TODO`), whose search retries at every position: where the next needle at or after
        a position is in `text`, -1 when none is left. Folded needles: ASCII texts only."""
        if self.fold:
            tests = [regex.compile(regex.escape(n), regex.IGNORECASE).search for n in self.needles]
            finds = [functools.partial(_start, test, text) for test in tests]
        else:
            finds = [functools.partial(text.find, needle) for needle in self.needles]
        ahead = [-2] * len(finds)  # Next place of each needle; -2 not looked for, -1 none.

        def next_needle(pos: int) -> int:
            best = -1
            for index, find in enumerate(finds):
                at = ahead[index]
                if at != -1 and at < pos:
                    at = ahead[index] = find(pos)
                if at != -1 and (best == -1 or at < best):
                    best = at
            return best

        return next_needle


def _start(search: Callable[[str, int], Any], text: str, pos: int) -> int:
    match = search(text, pos)
    return -1 if match is None else int(match.start())


def _search(rx: Any, data: str | bytes, deadline: float) -> bool:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    return rx.search(data, timeout=remaining) is not None


def _holds(needle: bytes, data: bytes) -> bool:
    return needle in data


def _best(sets: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """The most selective set: longest shortest string, then fewest strings."""
    known = [s for s in sets if s]
    if not known:
        return None
    return max(known, key=lambda s: (min(map(len, s)), -len(s)))


def _sequence(items: list[Any], fold: list[bool]) -> Facts:
    """Runs of consecutive exact items multiply out into literal strings; a run is cut where an
    item is unknown or the product grows past MAX_SET, and each cut run is a needed set."""
    run = frozenset([""])
    needed: list[frozenset[str] | None] = []
    exact = True
    for item in items:
        item_exact, item_needed = _facts(item, fold)
        needed.append(item_needed)
        if item_exact is not None:
            product = frozenset(a + b for a in run for b in item_exact)
            if len(product) <= MAX_SET:
                run = product
                continue
        exact = False
        needed.append(run)
        run = item_exact if item_exact is not None else frozenset([""])
    needed.append(run)
    return (run if exact else None), _best(needed)


def _branch(branches: list[Any], fold: list[bool]) -> Facts:
    facts = [_facts(branch, fold) for branch in branches]
    exact: frozenset[str] | None = None
    if all(e is not None for e, _n in facts):
        exact = frozenset().union(*(e for e, _n in facts if e is not None))
        if len(exact) > MAX_SET:
            exact = None
    each = [_best([e, n]) for e, n in facts]
    needed: frozenset[str] | None = None
    if all(s is not None for s in each):
        needed = frozenset().union(*(s for s in each if s is not None))
        if len(needed) > MAX_SET:
            needed = None
    return exact, needed


def _case(node: Any, fold: list[bool]) -> None:
    if node.case_flags & regex.IGNORECASE:
        fold[0] = True


def _facts(node: Any, fold: list[bool]) -> Facts:
    """What `node` says about the strings it matches; UNKNOWN for anything not listed here."""
    core = regex._regex_core
    kind = type(node)
    if kind is core.Character:
        if node.zerowidth:
            return EMPTY
        if not node.positive:
            return UNKNOWN
        _case(node, fold)
        return frozenset([chr(node.value)]), None
    if kind in (core.String, core.Literal):
        _case(node, fold)
        return frozenset(["".join(map(chr, node.characters))]), None
    if isinstance(node, core.ZeroWidthBase) or kind is core.LookAround:
        return EMPTY  # Consumes nothing: whatever it asserts, the match holds the rest.
    if kind in (core.Group, core.Atomic):
        return _facts(node.subpattern, fold)
    if kind is core.Sequence:
        return _sequence(node.items, fold)
    if kind is core.Branch:
        return _branch(node.branches, fold)
    if kind in (core.GreedyRepeat, core.LazyRepeat, core.PossessiveRepeat):
        low, high = node.min_count, node.max_count
        if high == 0:
            return EMPTY
        if low == 0:
            return UNKNOWN
        exact, needed = _facts(node.subpattern, fold)
        if low == high and exact is not None and len(exact) ** low <= MAX_SET and low <= 64:
            return _sequence([node.subpattern] * low, fold)
        return None, _best([exact, needed])  # At least one repetition is in every match.
    return UNKNOWN


def _parse(pattern: str | bytes, flags: int) -> Any:
    """The tree `regex.compile` builds before optimising, as its `_compile` builds it."""
    core = regex._regex_core
    global_flags = flags
    while True:
        source = core.Source(pattern)
        info = core.Info(global_flags, source.char_type, {})
        info.guess_encoding = core.UNICODE if isinstance(pattern, str) else core.ASCII
        source.ignore_space = bool(info.flags & core.VERBOSE)
        source.use_unicode_space(bool(info.flags & core.VERSION1))
        try:
            parsed = core._parse_pattern(source, info)
        except core._UnscopedFlagSet:
            global_flags = info.global_flags
            continue
        if not source.at_end():
            raise ValueError("pattern not parsed to its end")
        return parsed


_STARTS = ("Boundary", "DefaultBoundary", "StartOfWord", "DefaultStartOfWord")


def _weaker(pattern: str, flags: int, parsed: Any) -> Prefilter | None:
    """The pattern without a leading word boundary (`\\b[A-Z]` -> `[A-Z]`), when it starts with
    one: the engine then scans for the class fast. Every match of the pattern matches it."""
    core = regex._regex_core
    if type(parsed) is not core.Sequence or len(parsed.items) < 2:
        return None
    first = parsed.items[0]
    if type(first) not in tuple(getattr(core, name) for name in _STARTS):
        return None
    if pattern[:2] not in ("\\b", "\\m") or pattern[2:3] in QUANTIFIERS:
        return None
    if regex.compile(pattern, flags).flags & regex.REVERSE:
        return None  # Searched from the end: where a match starts is no longer the guide.
    rest = pattern[2:]
    again = _parse(rest, flags)
    items = again.items if type(again) is core.Sequence else [again]
    if not _same(items, parsed.items[1:]):
        return None
    return Prefilter(weak=regex.compile(rest, flags), weak_ascii=_ascii_twin(rest, flags, again))


def _ascii_twin(pattern: str, flags: int, parsed: Any) -> Any:
    """The pattern compiled on bytes, when that parses to the same tree and every character
    test in it answers alike for the 128 ASCII characters; None otherwise (case folding, or
    anything the check does not know)."""
    if not pattern.isascii():
        return None
    raw = pattern.encode()
    return regex.compile(raw, flags) if _agree(parsed, _parse(raw, flags)) else None


_ZERO_WIDTH = frozenset(
    {"Boundary", "StartOfWord", "EndOfWord", "StartOfLine", "EndOfLine", "StartOfString"}
    | {"EndOfString", "EndOfStringLine"}
)
_CHAR_TESTS = frozenset(
    ["Character", "Range", "Property", "SetUnion", "SetDiff", "SetInter", "SetSymDiff"]
)


def _starts_with_literal(node: Any) -> bool:
    """Whether the first thing the pattern consumes is a given character (the engine then
    skips to it quickly, and searching line by line would only add work)."""
    core = regex._regex_core
    while type(node) in (core.Sequence, core.Group):
        if type(node) is core.Group:
            node = node.subpattern
            continue
        consuming = [
            item
            for item in node.items
            if not isinstance(item, core.ZeroWidthBase) and type(item) is not core.LookAround
        ]
        if not consuming:
            return False
        node = consuming[0]
    if type(node) is core.Character:
        return bool(node.positive and not node.zerowidth)
    return type(node) in (core.String, core.Literal)


_LINE_ZERO_WIDTH = frozenset({"Boundary", "StartOfWord", "EndOfWord", "StartOfLine", "EndOfLine"})


def _one_line(node: Any) -> bool:
    """Whether no match of `node` can hold a newline, nor depend on the text's ends (so a match
    lies within one line, and searching that line alone finds it)."""
    core = regex._regex_core
    kind = type(node)
    name = kind.__name__
    if name in _CHAR_TESTS:
        return not node.matches(10)
    if kind in (core.String, core.Literal):
        return 10 not in node.characters
    if name == "Any" or name in _LINE_ZERO_WIDTH:
        return True
    if kind is core.Sequence:
        return all(map(_one_line, node.items))
    if kind is core.Branch:
        return all(map(_one_line, node.branches))
    if kind in (core.Group, core.Atomic, core.LookAround):
        return _one_line(node.subpattern)
    if kind in (core.GreedyRepeat, core.LazyRepeat, core.PossessiveRepeat):
        return _one_line(node.subpattern)
    return False


def _agree(a: Any, b: Any) -> bool:
    """The str tree `a` and the bytes tree `b` match the same ASCII texts."""
    core = regex._regex_core
    kind = type(a)
    if kind is not type(b):
        return False
    name = kind.__name__
    if name in _CHAR_TESTS:
        flags = (a.positive, a.zerowidth, a.case_flags)
        return (
            a.case_flags == 0
            and flags == (b.positive, b.zerowidth, b.case_flags)
            and all(a.matches(c) == b.matches(c) for c in range(128))
        )
    if name in ("Any", "AnyAll"):
        return True
    if name in _ZERO_WIDTH:
        return bool(a.positive == b.positive)
    if kind is core.Sequence:
        return len(a.items) == len(b.items) and all(map(_agree, a.items, b.items))
    if kind is core.Branch:
        return len(a.branches) == len(b.branches) and all(map(_agree, a.branches, b.branches))
    if kind in (core.Group, core.Atomic):
        return _agree(a.subpattern, b.subpattern)
    if kind in (core.GreedyRepeat, core.LazyRepeat, core.PossessiveRepeat):
        counts = (a.min_count, a.max_count) == (b.min_count, b.max_count)
        return counts and _agree(a.subpattern, b.subpattern)
    if kind is core.LookAround:
        same = (a.behind, a.positive) == (b.behind, b.positive)
        return same and _agree(a.subpattern, b.subpattern)
    return False


def _same(a: Any, b: Any) -> bool:
    """Parse trees alike node for node (the check that cutting two characters off a pattern
    removed its first node and nothing else)."""
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if not isinstance(a, regex._regex_core.RegexBase):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    fields, others = vars(a), vars(b)
    skip = {"info", "position"}  # The shared parse state, and where in the text a node is.
    return fields.keys() == others.keys() and all(
        _same(fields[k], others[k]) for k in fields if k not in skip
    )


@functools.lru_cache(maxsize=64)
def for_pattern(pattern: str, flags: int) -> Prefilter | None:
    """The prefilter for a pattern compiled with `flags`, or None when nothing cheaper than the
    search is known. Even a pattern that is one literal gets one: an ASCII file without it is
    then never decoded."""
    try:
        parsed = _parse(pattern, flags)
        fold = [False]
        exact, needed = _facts(parsed, fold)
        needles = _best([exact, needed]) or frozenset()
        useful = bool(needles) and min(map(len, needles)) >= MIN_NEEDLE
        if useful and not (fold[0] and not all(n.isascii() for n in needles)):
            words = tuple(sorted(n.lower() if fold[0] else n for n in needles))
            reverse = regex.compile(pattern, flags).flags & regex.REVERSE  # Rightmost first.
            by_line = not reverse and not _starts_with_literal(parsed) and _one_line(parsed)
            return Prefilter(needles=words, fold=fold[0], by_line=by_line)
        return _weaker(pattern, flags, parsed)
    except Exception:  # A regex version whose parser differs: search without a prefilter.
        log.debug("no prefilter for %r", pattern, exc_info=True)
        return None

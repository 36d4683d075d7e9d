"""The grep prefilter never rules out a file the pattern matches, and grep answers the same with
and without it (in one process and on the worker pool), on a varied tree."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
import regex

from acontext_mcp.config import Settings
from acontext_mcp.disk import grep_pool, grepwork, prefilter, search
from acontext_mcp.disk.confine import disk_root
from acontext_mcp.disk.prefilter import for_pattern
from acontext_mcp.disk.search import grep

M, IC = regex.MULTILINE, regex.IGNORECASE

# (pattern, flags, strings it matches): shapes the analysis reads, and syntax where `regex`
# differs from `re` (fuzzy matching, POSIX classes, named lists, scoped and global flags).
PATTERNS: list[tuple[str, int, list[str]]] = [
    (r"\b[A-Z]{3}-[0-9]{4}-[0-9]{4}\b", M, ["OPS-2024-1234"]),
    (r"\b[A-Z]{3}-[0-9]{4}", M | IC, ["ops-2024", "Kab-1234", "\u212aab-1234"]),
    (r"TODO|FIXME", M, ["TODO", "FIXME"]),
    (r"todo|fixme", M | IC, ["ToDo", "FIXme"]),
    (r"\w+Error\b", M, ["KeyError", "été_Error"]),
    (r"\bfoo\b", M, ["foo"]),
    (r"\bfoo", M | IC, ["FOO", "Foo"]),
    (r"kelvin", M | IC, ["\u212aelvin", "KELVIN"]),
    (r"(?i)kelvin|star", M, ["\u212aelvin", "\u017ftar", "STAR"]),
    (r"(?i:sta)rt", M, ["\u017ftart", "STArt"]),
    (r"ſtar", M | IC, ["star", "STAR", "ſtar"]),
    (r"stra(?i)sse", M, ["strasSE"]),
    (r"(?f)strasse", M | IC, ["stra\u00dfe", "STRASSE"]),
    (r"café", M, ["café"]),
    (r"caf\xe9|caf\u00e9s", M, ["café", "cafés"]),
    (r"x(a|)yz", M, ["xyz", "xayz"]),
    (r"(ab|cd)(ef|gh)(ij|kl)(mn|op)", M, ["abghijop", "cdefklmn"]),
    (r"(ab|cd)(ef|gh)(ij|kl)(mn|op)(q|r)", M, ["abghijopq", "cdefklmnr"]),
    (r"a{3}b", M, ["aaab"]),
    (r"(?:ab){2,}c", M, ["ababc", "abababc"]),
    (r"(?:abc){0}def", M, ["def"]),
    (r"(?:abc)?def", M, ["def", "abcdef"]),
    (r"(?:foo){e<=1}", M, ["fxo", "fo", "foo"]),
    (r"(?:quokka){e<=2}bar", M, ["quxxkabar"]),
    (r"[[:alpha:]]+123", M, ["abc123"]),
    (r"(?V1)[[a-z]--[aeiou]]xyz", M, ["bxyz"]),
    (r"(?<=abc)def", M, ["abcdef"]),
    (r"(?<!abc)def", M, ["xdef", "def"]),
    (r"abc(?=def)", M, ["abcdef"]),
    (r"(foo)\1", M, ["foofoo"]),
    (r"(?P<w>bar)(?P=w)", M, ["barbar"]),
    (r"(a)?(?(1)bcd|efg)", M, ["abcd", "efg"]),
    (r"(?r)needle", M, ["needle"]),
    (r"(?x) n e e d \s+ le  # comment", M, ["need  le", "need\nle"]),
    (r"^line$", M, ["line"]),
    (r"\Aabc", M, ["abc"]),
    (r"xyz\Z", M, ["xyz"]),
    (r"(?>atomic)+group", M, ["atomicgroup"]),
    (r"pos++essive", M, ["possessive"]),
    (r"lazy+?one", M, ["lazyyone"]),
    (r"\N{LATIN SMALL LETTER E WITH ACUTE}t\u00e9", M, ["été"]),
    (r"\x41BC\u0044", M, ["ABCD"]),
    (r"\bQUOKKA_SENTINEL_7731\b", M, ["QUOKKA_SENTINEL_7731"]),
    (r"new\nline", M, ["new\nline"]),
    (r"(?s)begin.*end", M, ["begin\n\nend"]),
    (r"(a|b|c|d|e|f|g|h|i)xyz", M, ["axyz", "ixyz"]),
    (r"(?:\b|x)abc", M, ["abc", "xabc"]),
    (r"\babc\b|\bdef", M, ["abc", "def"]),
    (r"\b{2}abc", M, ["abc"]),
    (r"\m[a-z]+ing\M", M, ["going"]),
    (r"(?w)\bhello\b", M, ["hello"]),
    (r"(*FAIL)|fallback", M, ["fallback"]),
    (r"keep\Kthis", M, ["keepthis"]),
]

NOISE = "ab xyz-_\n\tQK0123abcdefABCDEF\u212a\u017fé\u00df"


def _ruled_out(pattern: str, flags: int, text: str) -> bool:
    """What grep's file loop decides from the prefilter alone."""
    pre = for_pattern(pattern, flags)
    if pre is None:
        return False
    far = time.monotonic() + 60
    ascii = text.isascii()
    if ascii and pre.rules_out_ascii(text.encode(), far):
        return True
    return pre.rules_out_text(text, ascii, far)


@pytest.mark.parametrize(("pattern", "flags", "examples"), PATTERNS, ids=lambda p: str(p))
def test_a_matching_text_is_never_ruled_out(pattern: str, flags: int, examples: list[str]) -> None:
    rx = regex.compile(pattern, flags)
    rng = random.Random(pattern)
    texts = list(examples)
    for _ in range(300):
        noise = "".join(rng.choices(NOISE, k=rng.randint(0, 30)))
        example = rng.choice(examples)
        if rng.random() < 0.5:
            example = "".join(c.swapcase() if rng.random() < 0.3 else c for c in example)
        cut = rng.randint(0, len(noise))
        texts.append(noise[:cut] + example + noise[cut:])
    matched = 0
    for text in texts:
        if rx.search(text):
            matched += 1
            assert not _ruled_out(pattern, flags, text), (pattern, text)
    assert all(rx.search(example) for example in examples), "an example should match"
    assert matched >= len(examples)


@pytest.mark.parametrize(
    ("pattern", "flags", "kind", "without"),
    [
        ("TODO|FIXME", M, ("FIXME", "TODO"), "todo fixme TOD FIXM"),
        (r"\w+Error\b", M, ("Error",), "error ERROR Erro"),
        (r"\bfoo\b", M, ("foo",), "fo oo Foo"),
        ("QUOKKA", M, ("QUOKKA",), "quokka"),
        (r"todo|fixme", M | IC, ("fixme", "todo"), "tod fixm"),
        (r"(ab|cd)(ef|gh)", M, ("abef", "abgh", "cdef", "cdgh"), "abcd efgh"),
        (r"\b[A-Z]{3}-[0-9]{4}", M, "weak", "OP-2024 ops-2024"),
        (r"\bquokka", M | IC, ("quokka",), "quokk"),
        (r"\b[a-z]{3}-[0-9]{4}", M | IC, "weak", "ab-2024"),
    ],
)
def test_the_shapes_it_speeds_up(
    pattern: str, flags: int, kind: tuple[str, ...] | str, without: str
) -> None:
    pre = for_pattern(pattern, flags)
    assert pre is not None
    if kind == "weak":
        assert pre.weak is not None and not pre.needles
    else:
        assert pre.needles == kind and pre.weak is None
    assert _ruled_out(pattern, flags, without)
    assert _ruled_out(pattern, flags, without + " \u00e9") == (not pre.fold)


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        ("ab|c", M),  # A one-character needle rules out almost nothing.
        (r"[a-z]+\d+", M),
        (r"(?:foo){e<=1}", M),  # Fuzzy: "fxo" matches.
        ("\u017ftar", M | IC),  # A folded needle that is not ASCII ("ſ" folds to "s").
        (r"\L<words>", M),  # Needs a named list: not compilable here.
        ("^$", M),
    ],
)
def test_no_prefilter_where_none_helps_or_none_is_safe(pattern: str, flags: int) -> None:
    assert for_pattern(pattern, flags) is None


@pytest.mark.parametrize(
    "pattern", [r"\b[a-z]+\d", r"\bk\w", r"\b\w+$", r"\m\w{2}(?=\s)", r"\b(?<=a)b"]
)
@pytest.mark.parametrize("flags", [M, M | IC])
def test_searching_where_the_weak_pattern_matches_finds_the_same_matches(
    pattern: str, flags: int
) -> None:
    pre = for_pattern(pattern, flags)
    assert pre is not None and pre.weak is not None
    rx = regex.compile(pattern, flags)
    rng = random.Random(pattern)
    far = time.monotonic() + 60
    texts = ["1ak1 b1", "_kk kk", "a\u00e9ab b", "1ak1\nak1", "ba ab ab\n"]
    texts += [
        "".join(rng.choices("ab k1\n-_\u212aK\u00e9", k=rng.randint(0, 30))) for _ in range(300)
    ]
    for text in texts:
        for pos in range(len(text) + 1):
            want = rx.search(text, pos)
            got = grepwork._search(rx, pre.weak, text, pos, far)
            assert (got and got.span()) == (want and want.span()), (text, pos)


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        (r"\w+Error\b", M),
        (r".*TODO", M),
        (r"TODO|FIXME", M),
        (r"[a-z]+_later$", M | IC),
        (r"(?<=x)\w*abc(?!c)", M),
        (r"^\w+abc", M),
    ],
)
def test_searching_only_lines_that_hold_a_needle_finds_the_same_matches(
    pattern: str, flags: int
) -> None:
    pre = for_pattern(pattern, flags)
    assert pre is not None and pre.by_line
    rx = regex.compile(pattern, flags)
    rng = random.Random(pattern)
    far = time.monotonic() + 60
    texts = ["xabc abcc\nError KeyError\n\nTODO FIXME\nfix_LATER", "abc\nxabc", "\n\n"]
    alphabet = ["ab", "c", "x", " ", "\n", "Error", "Err", "TODO", "FIXME", "_later", "_LAT"]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 20))) for _ in range(300)]
    for text in texts:
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]  # scan's positions
        for pos in starts:
            want = rx.search(text, pos)
            got = grepwork._search(rx, None, text, pos, far, pre.finder(text))
            assert (got and got.span()) == (want and want.span()), (text, pos)


@pytest.mark.parametrize(
    "pattern",
    [
        r"QUOKKA",
        r"return \w+",
        r"\bfoo\b",
        r"\w+\s+Error",
        r"(?s).*TODO",
        r"[^x]+TODO",
        r"\w+Err\Z",
        r"(?r)\w+Error",
    ],
)
def test_lines_are_not_searched_one_by_one_when_it_cannot_help_or_be_right(pattern: str) -> None:
    pre = for_pattern(pattern, M)
    assert pre is not None and pre.needles and not pre.by_line


ASCII_TWINS = [
    r"\b[A-Z]{3}-[0-9]{4}-[0-9]{4}\b",
    r"\b\w+\s+\d",
    r"\b[^\W\d]\S+$",
    r"\b[k\u212a]ab",
    r"\b(?=\w)\p{L}+z",
    r"\b[[:alpha:]]+\B.",
    r"\m\d+(?:x|y)*?\M",
    r"\b(?<!-)\w{2,3}(?!\s)",
    r"\b\N{KELVIN SIGN}",
]
ASCII_NOISE = "".join(map(chr, range(128)))


@pytest.mark.parametrize("pattern", ASCII_TWINS)
def test_the_bytes_twin_answers_as_the_text_pattern_on_ascii(pattern: str) -> None:
    pre = for_pattern(pattern, M)
    assert pre is not None and pre.weak is not None and pre.weak_ascii is not None
    rng = random.Random(pattern)
    for _ in range(400):
        text = "".join(rng.choices(ASCII_NOISE + "ab12 -_\n" * 20, k=rng.randint(0, 40)))
        assert bool(pre.weak.search(text)) == bool(pre.weak_ascii.search(text.encode())), text


@pytest.mark.parametrize(
    "pattern", [r"\b[a-z]{3}", r"\b(?i:[k-m])\d", r"\b(?w)\bx", r"\b(a)\1", r"\b\X", r"\bé\w"]
)
def test_no_bytes_twin_where_ascii_answers_may_differ(pattern: str) -> None:
    flags = M | (IC if pattern == r"\b[a-z]{3}" else 0)
    pre = for_pattern(pattern, flags)
    assert pre is not None and pre.weak is not None
    assert pre.weak_ascii is None


def test_a_parser_that_changed_means_no_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> None:
        raise AttributeError("no such parser")

    monkeypatch.setattr(prefilter, "_parse", broken)
    prefilter.for_pattern.cache_clear()
    try:
        assert for_pattern("TODO|FIXME", M) is None
    finally:
        prefilter.for_pattern.cache_clear()


# --- grep, with and without the prefilter ---

WORDS = [
    "alpha",
    "TODO fix",
    "FIXME later",
    "todo",
    "KeyError raised",
    "error",
    "OPS-2024-1234",
    "ops-2024-12345",
    "x OPS-2024-1234y",
    "café",
    "\u212aelvin",
    "kelvin",
    "\u017ftar",
    "QUOKKA",
    "\tindent",
    "foo",
    "food",
]

GREPS: list[dict[str, Any]] = [
    {"pattern": "TODO|FIXME"},
    {"pattern": "todo|fixme", "ignore_case": True},
    {"pattern": r"\w+Error\b", "context": 1},
    {"pattern": r"\b[A-Z]{3}-[0-9]{4}-[0-9]{4}\b"},
    {"pattern": r"\b[a-z]{3}-\d{4}", "ignore_case": True},
    {"pattern": r"\bkelvin\b", "ignore_case": True},
    {"pattern": r"\bstar", "ignore_case": True},
    {"pattern": r"\bfoo\b", "glob": "*.md"},
    {"pattern": "caf\u00e9$"},
    {"pattern": "QUOKKA", "max_results": 5},
    {"pattern": r"(?:quokka){e<=1}", "ignore_case": True},
    {"pattern": r"\b[A-Z]\w*", "context": 2},
    {"pattern": r"\b\d+$", "max_results": 50},
    {"pattern": r".*TODO", "context": 1},
    {"pattern": r"[a-z]+ later", "ignore_case": True},
    {"pattern": r"\w+\s+later", "ignore_case": True},
]


@pytest.fixture
def tree(settings: Settings) -> Path:
    """Text in ASCII and not, CRLF, binary, non-UTF-8 and oversized files, a .gitignore (grep
    searches what it lists: a disk is searched whole, as `rg -uu` does)."""
    root = disk_root(settings, "default")
    rng = random.Random(7)
    for i in range(500):
        folder = root / f"d{i % 5}" / f"e{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            " ".join(rng.choices(WORDS, k=rng.randint(1, 4))) for _ in range(rng.randint(0, 30))
        ]
        ascii_only = i % 2 == 0
        if ascii_only:
            lines = [line.encode("ascii", "ignore").decode() for line in lines]
        end = "\r\n" if i % 11 == 0 else "\n"
        data = (end.join(lines) + (end if i % 3 else "")).encode()
        if i % 41 == 0:
            data = b"\x00\x01" + data
        elif i % 43 == 0:
            data += b"\xff TODO"
        elif i % 47 == 0:
            data *= 100
        (folder / f"f{i:03d}.{'md' if i % 2 else 'txt'}").write_bytes(data)
    (root / ".gitignore").write_text("d1/\n*.md\n# TODO\n")
    return root


def _grep(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, pooled: bool, on: bool, **args: Any
) -> dict:
    with monkeypatch.context() as patch:
        if not pooled:
            patch.setattr(search, "POOL_MIN_FILES", 10**9)
        if not on:
            patch.setattr(grepwork, "for_pattern", lambda _pattern, _flags: None)
        result = grep(settings, "default", **args)
    result.pop("elapsed")
    return result


@pytest.mark.parametrize("case", GREPS, ids=lambda case: str(case["pattern"]))
def test_grep_answers_the_same_with_and_without_it(
    settings: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]
) -> None:
    monkeypatch.setattr(grep_pool, "worker_count", lambda: 2)
    small = settings.replace(max_artifact_bytes=30_000)
    args = {"max_results": 1000, **case}
    plain = _grep(small, monkeypatch, pooled=False, on=False, **args)
    assert plain["matches"], "each case should find something"
    assert plain["truncated"] or (plain["files_skipped_binary"] and plain["files_skipped_large"])
    assert _grep(small, monkeypatch, pooled=False, on=True, **args) == plain
    # The workers get the prefilter the same way (they import grepwork afresh).
    assert _grep(small, monkeypatch, pooled=True, on=True, **args) == plain

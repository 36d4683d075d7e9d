"""SKILL.md front matter, parsed as YAML: PyYAML's safe loader, plain forms by a proven fast path.

Agent Skills front matter is YAML, and the agents (Claude Code, OpenClaw) read it with real YAML
parsers, so we do too: what they accept we read the same way, and what YAML rejects (`key: a: b`,
tab indentation) we refuse with a message that says how to fix it. Two choices keep the result
plain JSON data: dates stay strings (as in YAML 1.2's core schema), and any other value JSON
cannot hold (`!!binary`, an explicit `!!timestamp`) is refused.

Importing PyYAML costs ~10 ms, and the SessionStart brief lists every skill inside the hook, so
the plainest front matter (`key: text` lines, text continued on indented lines, and `>`, `>-`,
`|`, `|-` blocks of evenly indented lines: what the defaults and the learner write) is read by
`_simple`, which answers only where its answer is PyYAML's (tests/test_skills_front_matter.py
checks that on the corpus and on generated input) and hands anything else to PyYAML.
"""

from __future__ import annotations

import json
import re
from functools import cache

from acontext_mcp.errors import InvalidInput

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this (hooks/__init__.py)
if TYPE_CHECKING:
    from typing import Any

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_HOW = (
    "front matter is YAML: write each field as 'key: value', indent with spaces, and quote a "
    "value that holds ': ' or ' #' or starts with one of [ ] { } > | * & ! % @ ` ' \""
)


# YAML 1.1 words PyYAML reads as booleans or null; any case variant goes to PyYAML.
_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})
_SIMPLE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_BLOCKS = {">": (" ", "\n"), ">-": (" ", ""), "|": ("\n", "\n"), "|-": ("\n", "")}


def _plain_text(text: str) -> bool:
    """True if YAML reads `text` (one line of a plain scalar, stripped) as exactly this string:
    it starts with a letter (no indicator, number or date), holds no ': ' (a mapping) nor ' #'
    (a comment), and is not a YAML 1.1 boolean or null word."""
    return (
        text[:1].isalpha()
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and text.lower() not in _WORDS
    )


def _simple(front: str) -> dict[str, Any] | None:
    """The front matter as PyYAML reads it if it is of the plainest kind, else None."""
    if not front.replace("\n", "").isprintable():
        return None  # tabs, CR, controls, BOM, Unicode line breaks: PyYAML's rules
    lines = front.split("\n")
    out: dict[str, Any] = {}
    i = 0
    while i < len(lines):
        key, sep, value = lines[i].partition(": ")
        i += 1
        if not key and not sep:
            continue  # a blank line between entries
        if not sep or not _SIMPLE_KEY.fullmatch(key) or key.lower() in _WORDS:
            return None
        more: list[str] = []
        while i < len(lines) and lines[i].startswith(" "):
            more.append(lines[i])
            i += 1
        after = next((line for line in lines[i:] if line), "")
        if after.startswith(" "):
            return None  # a blank line inside a value: PyYAML's folding rules
        if value in _BLOCKS:
            indent = len(more[0]) - len(more[0].lstrip(" ")) if more else 0
            texts = [line[indent:] for line in more]
            if not more or any(
                line[:indent].strip() or not text or text[0] == " " or text[-1] == " "
                for line, text in zip(more, texts, strict=True)
            ):
                return None  # empty, uneven or trailing spaces: PyYAML's rules
            join, end = _BLOCKS[value]
            out[key] = join.join(texts) + (end if i < len(lines) else "")  # no final line break
            continue
        pieces = [value, *(line.strip(" ") for line in more)]
        if value != value.strip(" ") or not all(_plain_text(piece) for piece in pieces):
            return None
        out[key] = " ".join(pieces)
    return out


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Return (front matter text or None, body)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith("---"):
        return None, text
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return None, text
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    raise InvalidInput("front matter opened with '---' is never closed")


@cache
def _loader() -> type:
    """PyYAML's safe loader (the C one when built) without the timestamp resolver."""
    import yaml  # type: ignore[import-untyped]  # no stubs needed: used through two calls

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in pairs if tag != _TIMESTAMP]
        for first, pairs in base.yaml_implicit_resolvers.items()
    }
    return type("SkillFrontMatterLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def _hint(lines: list[str], row: int, col: int, problem: str) -> str:
    """How to fix the YAML error `problem` found at (row, col) of the front matter."""
    line = lines[row] if 0 <= row < len(lines) else ""
    if "\t" in line[: max(col, 0) + 1] or "tab" in problem:
        return "indent with spaces, not tabs: YAML does not allow tabs in indentation"
    if "mapping values are not allowed" in problem:
        key, _, value = line.partition(":")
        if line[:1] in (" ", "\t"):
            return (
                "this line is indented, so YAML reads it as part of the value above, where a "
                "colon followed by a space is not allowed: un-indent it if it starts a new "
                "key, or quote the value"
            )
        quoted = json.dumps(value.strip(), ensure_ascii=False)
        return (
            "quote the value: a colon followed by a space starts a mapping in YAML, so write "
            f"{key.strip()}: {quoted}"
        )
    if "could not find expected ':'" in problem:
        return "each line is 'key: value'; a value continued on the next line must be indented"
    return _HOW


def _explain(exc: Exception, front: str) -> str:
    """A YAML error as one sentence: where (SKILL.md line), what, and how to fix it."""
    lines = front.splitlines()
    character = getattr(exc, "character", None)
    if isinstance(character, str | int) and getattr(exc, "position", None) is not None:
        code = ord(character) if isinstance(character, str) else character
        row = front.count("\n", 0, exc.position)  # type: ignore[attr-defined]
        return (
            f"line {row + 2} holds the control character U+{code:04X}, which YAML does not "
            "allow: remove it"
        )
    problem = str(getattr(exc, "problem", None) or exc).strip()
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return f"{problem}; {_HOW}"
    row = mark.line if mark.line < len(lines) else len(lines) - 1
    context = getattr(exc, "context", None)
    what = f"{problem} ({context})" if context else problem
    # The front matter starts on SKILL.md's line 2, after the opening '---'.
    return f"line {row + 2}: {what}; {_hint(lines, row, mark.column, problem)}"


def _plain(value: Any, where: str) -> None:
    """Refuse what JSON cannot hold: front matter travels to MCP clients and the model."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise InvalidInput(f"{where} has a key YAML reads as {type(key).__name__}; {_HOW}")
            _plain(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for item in value:
            _plain(item, where)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise InvalidInput(
            f"{where!r} reads as {type(value).__name__} in YAML, which front matter cannot hold: "
            "write it as a quoted string"
        )


def parse_front_matter(front: str) -> dict[str, Any]:
    """The front matter text (between the '---' lines) as a dict; InvalidInput says what to fix."""
    import yaml  # type: ignore[import-untyped]  # no stubs needed: used through two calls

    try:
        data = yaml.load(front, Loader=_loader())  # a safe loader: no object construction
    except yaml.YAMLError as exc:
        raise InvalidInput(_explain(exc, front)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(
            f"front matter must be 'key: value' lines (a YAML mapping), not a "
            f"{'list' if isinstance(data, list) else type(data).__name__}; {_HOW}"
        )
    _plain(data, "")
    return data


def parse_skill_md(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter dict, body). Raises InvalidInput naming the problem and the fix."""
    front, body = split_front_matter(text)
    if front is None:
        return {}, body
    simple = _simple(front)
    return (parse_front_matter(front) if simple is None else simple), body

"""SKILL.md front matter: the small YAML subset Agent Skills use, parsed without PyYAML.

Supported: `key: value` scalars (plain, also continued on more-indented lines, single- or
double-quoted), folded/literal block scalars (`>`, `|`), lists of scalars (`- item`), and one
level of nested mapping (`metadata:` followed by indented `key: value`). Anything else is
reported, not guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from acontext_mcp.errors import InvalidInput

_KEY = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*))?$")


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


def _scalar(raw: str) -> Any:
    raw = raw.strip()
    if raw == "":
        return ""
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"bad double-quoted string: {raw[:60]}") from exc
    if raw.startswith("'"):
        if not raw.endswith("'") or len(raw) < 2:
            raise InvalidInput(f"unterminated single-quoted string: {raw[:60]}")
        return raw[1:-1].replace("''", "'")
    if raw.startswith("[") and raw.endswith("]"):
        return [_scalar(x) for x in raw[1:-1].split(",") if x.strip()]
    raw = re.sub(r"\s+#.*$", "", raw)
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "~"):
        return None
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], start: int, parent_indent: int, style: str) -> tuple[str, int]:
    body: list[str] = []
    i = start
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > parent_indent):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    if not body:
        return "", i
    cut = min(_indent(x) for x in body if x.strip())
    text_lines = [x[cut:] if x.strip() else "" for x in body]
    if style.startswith("|"):
        return "\n".join(text_lines) + "\n", i
    folded = " ".join(x for x in text_lines if x)
    return folded + "\n", i


def _mapping(lines: list[str], start: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        if _indent(line) < indent:
            break
        if _indent(line) > indent:
            raise InvalidInput(f"unexpected indentation at front matter line {i + 1}")
        match = _KEY.match(line.strip())
        if not match:
            raise InvalidInput(f"front matter line {i + 1} is not 'key: value': {line.strip()}")
        key, rest = match.group(1), (match.group(2) or "")
        i += 1
        if rest.strip() and rest.strip()[0] in "|>":
            out[key], i = _block(lines, i, indent, rest.strip())
        elif rest.strip():
            plain = rest.strip()[0] not in "\"'[{"
            more: list[str] = []
            while plain and i < len(lines) and lines[i].strip() and _indent(lines[i]) > indent:
                piece = lines[i].strip()  # a plain scalar continued on indented lines
                if ": " in piece or piece.endswith(":") or piece.startswith("#"):
                    raise InvalidInput(f"unexpected indentation at front matter line {i + 1}")
                more.append(piece)
                i += 1
            out[key] = " ".join([rest.strip(), *more]) if more else _scalar(rest)
        else:
            nxt = next((j for j in range(i, len(lines)) if lines[j].strip()), None)
            if nxt is None or (
                _indent(lines[nxt]) <= indent and not lines[nxt].lstrip().startswith("- ")
            ):
                out[key] = None
            elif lines[nxt].lstrip().startswith("- "):
                items: list[Any] = []
                while i < len(lines) and (
                    not lines[i].strip() or lines[i].lstrip().startswith("- ")
                ):
                    if lines[i].strip():
                        items.append(_scalar(lines[i].lstrip()[2:]))
                    i += 1
                out[key] = items
            else:
                out[key], i = _mapping(lines, nxt, _indent(lines[nxt]))
    return out, i


def parse_skill_md(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter dict, body). Raises InvalidInput naming the problem."""
    front, body = split_front_matter(text)
    if front is None:
        return {}, body
    data, _ = _mapping(front.splitlines(), 0, 0)
    return data, body

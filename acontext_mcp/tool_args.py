"""Tool arguments refused in plain words, before a tool runs.

Trigger: a tools/call whose arguments do not fit the tool's input schema. Why: pydantic's own
text names an internal model (`list_sessionsArguments`), error codes and a documentation URL,
and an argument the tool does not take is silently dropped, so a misspelt `limt` quietly
returns the defaults. Outcome: an unknown argument is refused with the accepted ones listed;
each invalid argument is named with what to send instead.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from acontext_mcp.text import clip

_SHOWN = 40  # characters of a rejected value quoted back

# pydantic error type -> what the argument must be, for the types our tools take
_KINDS = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list (JSON array)",
    "dict_type": "an object (JSON object)",
    "model_type": "an object (JSON object)",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def unknown_arguments(tool: str, arguments: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """Why the call names arguments the tool does not take, or None when it names none."""
    accepted = list((schema.get("properties") or {}).keys())
    unknown = [name for name in arguments if name not in accepted]
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, accepted, n=1)
        if close:
            hints.append(f"{name!r} (did you mean {close[0]!r}?)")
        else:
            hints.append(repr(name))
    noun = "unknown argument" if len(unknown) == 1 else "unknown arguments"
    takes = f"{tool} accepts: {', '.join(accepted)}" if accepted else f"{tool} takes no arguments"
    return f"{noun} {', '.join(hints)}; {takes}"


def explain(exc: ValidationError, schema: dict[str, Any]) -> str:
    """Each invalid argument of a call, in plain words, with what to send instead."""
    properties = schema.get("properties") or {}
    lines = list(dict.fromkeys(_explain_one(error, properties) for error in exc.errors()))
    head = "invalid argument" if len(lines) == 1 else "invalid arguments"
    return f"{head}: " + "; ".join(lines)


def _explain_one(error: Any, properties: dict[str, Any]) -> str:
    loc = list(error.get("loc", ()))
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    name = name or "arguments"
    top = str(loc[0]) if loc else ""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    got = _shown(error.get("input"))
    if kind == "missing":
        return f"{name!r} is required"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"{name!r} must be {words} {ctx.get(key)} (got {got}){_default(properties, top)}"
    if kind in ("literal_error", "enum"):
        return f"{name!r} must be one of {ctx.get('expected', '')} (got {got})"
    if kind in _KINDS:
        return f"{name!r} must be {_KINDS[kind]} (got {got}){_default(properties, top)}"
    message = str(error.get("msg", "is not valid")).replace("Input should be", "must be")
    return f"{name!r}: {message} (got {got})"


def _default(properties: dict[str, Any], name: str) -> str:
    """ ", or omit it for the default N" when the argument has a default."""
    spec = properties.get(name)
    if isinstance(spec, dict) and spec.get("default") is not None:
        return f", or omit it for the default {spec['default']!r}"
    return ""


def _shown(value: Any) -> str:
    return clip(repr(value), _SHOWN)

"""Context editing on read: the reference's four strategies over a copy of the messages.

Stored messages never change; `apply_edits` edits a copy of what one read returns, in the
internal form (formats/parts.py), before it is converted to the caller's format. Strategies
run in the reference's priority order whatever order the caller gives:

1. `remove_tool_result`: all but the newest `keep_recent_n_tool_results` (3) tool results get
   `tool_result_placeholder` ("Done") as their content; results of `keep_tools` are never
   cleared, and with `gt_token` only results of more tokens than that are.
2. `remove_tool_call_params`: the same over tool calls (`keep_recent_n_tool_calls`, 3), whose
   `arguments` become "{}" (id and name kept).
3. `middle_out`: while over `token_reduce_to`, drop the middle message (the oldest once two
   are left).
4. `token_limit`: while over `limit_tokens`, drop the oldest message.

A dropped message takes every message that shares a tool-call id with it along (transitively),
so no call loses its result and no result its call. With a pin (`editable`), strategies see
only the messages up to and including the pinned one, exactly as the reference: later
messages pass through untouched, so a client's cached prompt prefix is edited the same way on
every read. A pinned prefix never drops a tool call whose result it does not hold (the result
is, or will be, after the pin).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.context.tokens import Counter, counter, message_tokens, part_tokens
from acontext_mcp.errors import InvalidInput

# The reference's priorities (lower runs first); token_limit always runs last.
PRIORITY = {
    "remove_tool_result": 1,
    "remove_tool_call_params": 2,
    "middle_out": 50,
    "token_limit": 100,
}
# strategy -> knob -> (kind, default); a None default is unset (or, in REQUIRED, required)
_INT, _STR, _NAMES = "integer", "string", "list of tool names"
KNOBS: dict[str, dict[str, tuple[str, Any]]] = {
    "remove_tool_result": {
        "keep_recent_n_tool_results": (_INT, 3),
        "tool_result_placeholder": (_STR, "Done"),
        "keep_tools": (_NAMES, ()),
        "gt_token": (_INT, None),
    },
    "remove_tool_call_params": {
        "keep_recent_n_tool_calls": (_INT, 3),
        "keep_tools": (_NAMES, ()),
        "gt_token": (_INT, None),
    },
    "middle_out": {"token_reduce_to": (_INT, None)},
    "token_limit": {"limit_tokens": (_INT, None)},
}
REQUIRED = {"middle_out": "token_reduce_to", "token_limit": "limit_tokens"}
EXAMPLE = '{"type": "token_limit", "params": {"limit_tokens": 8000}}'


@dataclass(frozen=True)
class Strategy:
    """One validated strategy: its type and every knob (defaults filled in)."""

    type: str
    params: dict[str, Any]


@dataclass
class Edited:
    """What a read returns after editing, and what the edits did."""

    messages: list[Any]
    ids: list[Any]  # parallel to messages: the caller's id of each message kept
    applied: list[dict[str, Any]] = field(default_factory=list)
    tokens_before: int = 0
    tokens_after: int = 0
    counter: str = ""


# --- Validation ---


def _knob(where: str, name: str, kind: str, value: Any) -> Any:
    if kind == _INT:
        minimum = 0 if name.startswith("keep_recent") else 1
        whole = isinstance(value, float) and value.is_integer()
        if isinstance(value, bool) or not (isinstance(value, int) or whole) or value < minimum:
            raise InvalidInput(f"{where}: '{name}' must be an integer >= {minimum} (got {value!r})")
        return int(value)
    if kind == _STR:
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: '{name}' must be a string (got {value!r})")
        return value.strip() or "Done"  # as the reference: trimmed, empty means the default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{where}: '{name}' must be a list of tool names (got {value!r})")
    return tuple(value)


def parse_strategies(raw: Any) -> list[Strategy]:
    """Validated strategies in the order they run. Errors name the entry and what to fix."""
    if not isinstance(raw, list):
        raise InvalidInput(f"edits must be a list of strategy objects, e.g. [{EXAMPLE}]")
    found: list[Strategy] = []
    for i, entry in enumerate(raw):
        where = f"edits[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise InvalidInput(f"{where} must be an object like {EXAMPLE}")
        kind = entry["type"]
        if kind not in KNOBS:
            raise InvalidInput(f"{where}: unknown strategy {kind!r}; use one of {', '.join(KNOBS)}")
        where = f"{where} ({kind})"
        extra = sorted(set(entry) - {"type", "params"})
        if extra:
            raise InvalidInput(f"{where}: unknown key {extra[0]!r}; put knobs under 'params'")
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise InvalidInput(f"{where}: 'params' must be an object")
        knobs = KNOBS[kind]
        unknown = sorted(set(params) - set(knobs))
        if unknown:
            raise InvalidInput(
                f"{where}: unknown param {unknown[0]!r}; {kind} takes {', '.join(knobs)}"
            )
        if kind in REQUIRED and params.get(REQUIRED[kind]) is None:
            raise InvalidInput(f"{where}: '{REQUIRED[kind]}' is required (an integer >= 1)")
        if any(s.type == kind for s in found):
            raise InvalidInput(f"{where}: {kind} is given twice; give each strategy once")
        values = {
            name: default if params.get(name) is None else _knob(where, name, kind_, params[name])
            for name, (kind_, default) in knobs.items()
        }
        found.append(Strategy(kind, values))
    return sorted(found, key=lambda s: PRIORITY[s.type])


# --- Applying ---


def _tool_ids(message: Any) -> set[str]:
    """The tool-call ids a message holds, as calls or as results."""
    ids: set[str] = set()
    for part in message.get("parts") or []:
        if part.get("type") == "tool-call" and part.get("id"):
            ids.add(part["id"])
        elif part.get("type") == "tool-result" and part.get("tool_call_id"):
            ids.add(part["tool_call_id"])
    return ids


def _groups(messages: Sequence[Any]) -> list[frozenset[int]]:
    """For each message, the messages that must go with it: those linked by tool-call ids."""
    holders: dict[str, set[int]] = {}
    links = [_tool_ids(m) for m in messages]
    for i, ids in enumerate(links):
        for tid in ids:
            holders.setdefault(tid, set()).add(i)
    groups: list[frozenset[int] | None] = [None] * len(messages)
    for start in range(len(messages)):
        if groups[start] is not None:
            continue
        seen, todo = {start}, [start]
        while todo:
            for tid in links[todo.pop()]:
                for other in holders[tid] - seen:
                    seen.add(other)
                    todo.append(other)
        group = frozenset(seen)
        for member in group:
            groups[member] = group
    return [g or frozenset() for g in groups]


def _open_calls(messages: Sequence[Any]) -> set[int]:
    """Messages holding a tool call whose result is not among `messages`."""
    answered = {
        p.get("tool_call_id")
        for m in messages
        for p in m.get("parts") or []
        if p.get("type") == "tool-result"
    }
    return {
        i
        for i, m in enumerate(messages)
        for p in m.get("parts") or []
        if p.get("type") == "tool-call" and p.get("id") not in answered
    }


class _Work:
    """The editable messages with their token counts, as strategies change them."""

    def __init__(
        self, messages: list[Any], ids: list[Any], count: Callable[[str], int], pinned: bool
    ) -> None:
        self.messages, self.ids, self.count = messages, ids, count
        self.tokens = [message_tokens(m, count) for m in messages]
        self.groups = _groups(messages)
        self.locked: set[int] = set()
        if pinned:
            for i in _open_calls(messages):
                self.locked |= self.groups[i]
        self.alive = list(range(len(messages)))

    def total(self) -> int:
        return sum(self.tokens[i] for i in self.alive)

    def drop(self, index: int) -> list[int]:
        gone = sorted(self.groups[index] & set(self.alive))
        self.alive = [i for i in self.alive if i not in gone]
        return gone


def _clear(work: _Work, strategy: Strategy) -> dict[str, Any]:
    """remove_tool_result / remove_tool_call_params: rewrite all but the newest N parts."""
    p = strategy.params
    results = strategy.type == "remove_tool_result"
    wanted = "tool-result" if results else "tool-call"
    names = {
        part["id"]: part.get("name")
        for i in work.alive
        for part in work.messages[i]["parts"]
        if part.get("type") == "tool-call" and part.get("id")
    }
    spots: list[tuple[int, dict[str, Any]]] = []
    for i in work.alive:
        for part in work.messages[i]["parts"]:
            if part.get("type") != wanted:
                continue
            name = part.get("name")
            if results:  # a result names its tool through its call (or itself: Gemini)
                name = names.get(part.get("tool_call_id")) or name
            if name not in p["keep_tools"]:
                spots.append((i, part))
    keep = p["keep_recent_n_tool_results" if results else "keep_recent_n_tool_calls"]
    touched: list[int] = []
    parts = saved = 0
    for i, part in spots[: max(len(spots) - keep, 0)]:
        if results:
            size = part_tokens(part, work.count)
            new_content = [{"type": "text", "text": p["tool_result_placeholder"]}]
            if p["gt_token"] is not None and size <= p["gt_token"]:
                continue
            if part.get("content") == new_content:
                continue
            part["content"] = new_content
        else:
            size = work.count(part.get("arguments") or "")
            if p["gt_token"] is not None and size <= p["gt_token"]:
                continue
            if part.get("arguments") == "{}":
                continue
            part["arguments"] = "{}"
        parts += 1
        before, work.tokens[i] = work.tokens[i], message_tokens(work.messages[i], work.count)
        saved += before - work.tokens[i]
        if i not in touched:
            touched.append(i)
    return {
        "type": strategy.type,
        "message_ids": [work.ids[i] for i in touched],
        "parts": parts,
        "tokens_saved": saved,
    }


def _drop(work: _Work, strategy: Strategy) -> dict[str, Any]:
    """middle_out / token_limit: drop messages (with their tool pairs) until under target."""
    middle = strategy.type == "middle_out"
    target = strategy.params["token_reduce_to" if middle else "limit_tokens"]
    total, dropped = work.total(), []
    while total > target:
        candidates = [i for i in work.alive if i not in work.locked]
        if not candidates:
            break  # what is left is pinned in place: the answer stays over the target
        # the middle keeps head and tail; with two left, the older goes (recency wins)
        middle_of = len(candidates) // 2 if middle and len(candidates) > 2 else 0
        gone = work.drop(candidates[middle_of])
        dropped.extend(gone)
        total -= sum(work.tokens[i] for i in gone)
    return {
        "type": strategy.type,
        "message_ids": [work.ids[i] for i in sorted(dropped)],
        "tokens_saved": sum(work.tokens[i] for i in dropped),
    }


def apply_edits(
    messages: Sequence[Any],
    ids: Sequence[Any],
    strategies: Sequence[Strategy],
    *,
    editable: int | None = None,
    count: Counter | None = None,
) -> Edited:
    """Edit a copy of `messages` (internal form; `ids` parallel to them).

    `editable`: how many leading messages strategies may see (a pin); None means all. The
    input is never changed; untouched later messages are handed back as they are.
    """
    count = count or counter()
    cut = len(messages) if editable is None else max(0, min(editable, len(messages)))
    head = copy.deepcopy(list(messages[:cut]))
    work = _Work(head, list(ids[:cut]), count.count, pinned=editable is not None)
    tail = list(messages[cut:])
    tail_tokens = sum(message_tokens(m, count.count) for m in tail)
    before = work.total() + tail_tokens
    applied = [
        (_drop if s.type in ("middle_out", "token_limit") else _clear)(work, s) for s in strategies
    ]
    return Edited(
        messages=[work.messages[i] for i in work.alive] + tail,
        ids=[work.ids[i] for i in work.alive] + list(ids[cut:]),
        applied=applied,
        tokens_before=before,
        tokens_after=work.total() + tail_tokens,
        counter=count.name,
    )

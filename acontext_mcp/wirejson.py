"""JSON for the hooks' answer path, through CPython's C accelerator, without importing `json`.

`import json` imports `re` (and `enum`, `functools` behind it): about 4 ms of a prompt hook
whose whole budget is twice a bare interpreter (bench/bench_prompt_hook.py). `_json`, the C
module behind `json`, parses and encodes alone; these two functions drive it the way
`json.loads` and `json.dumps` do, with the same results on what hooks exchange. Where `_json`
is missing (another Python) they are `json`'s own functions. Standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: hooks import this
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"


class _Context:
    """What `_json.make_scanner` reads off a JSONDecoder: json.loads' defaults, and a fresh
    memo (the key cache) per document."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    def __init__(self) -> None:
        self.memo: dict[str, str] = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


def _error(message: str, text: str, pos: int) -> ValueError:
    """json's own error (JSONDecodeError, a ValueError, saying where): on the error path,
    importing json costs nothing that counts."""
    import json

    return json.JSONDecodeError(message, text, pos)


def loads(text: str | bytes) -> Any:
    """As `json.loads(text)`: raises ValueError (json.JSONDecodeError) on malformed input."""
    if _json is None:  # pragma: no cover
        import json

        return json.loads(text)
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if text.startswith("\ufeff"):
        raise _error("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    scanner = _json.make_scanner(_Context())  # type: ignore[arg-type]  # duck-typed, as in C
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = scanner(text, start)
    except StopIteration as stop:
        raise _error("Expecting value", text, stop.value) from None
    except SystemError:  # CPython 3.11's scanner raises its errors with json.decoder's class,
        import json  # found only when json is imported already: let json say what is wrong

        return json.loads(text)
    rest = len(text) - len(text.rstrip(_WHITESPACE))
    if end != len(text) - rest:
        raise _error("Extra data", text, end)
    return value


def dumps(value: Any, *, ensure_ascii: bool = True) -> str:
    """As `json.dumps(value, ensure_ascii=...)` for dicts, lists, strings, numbers, booleans
    and None (what a hook answers with); anything else raises TypeError."""
    if _json is None:  # pragma: no cover
        import json

        return json.dumps(value, ensure_ascii=ensure_ascii)

    def refuse(obj: object) -> None:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    encode = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    encoder = _json.make_encoder({}, refuse, encode, None, ": ", ", ", False, False, True)
    return "".join(encoder(value, 0))

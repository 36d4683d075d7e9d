"""wirejson: the hooks' JSON without importing json gives json's results, and json's errors."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp import wirejson

FIXTURES = Path(__file__).parent / "fixtures"


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(10**20), 10**20)
    if kind == 3:
        return rng.uniform(-1e9, 1e9)
    if kind in (4, 5):
        alphabet = 'aé"\\/\n\t\x00\x1f\u2028\U0001f600 <>&\ud800'
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    if kind in (6, 7):
        return {str(_value(rng, 4)): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_random_documents_round_trip_exactly_as_json_does() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        value = _value(rng)
        for ascii_only in (True, False):
            text = json.dumps(value, ensure_ascii=ascii_only)
            assert wirejson.dumps(value, ensure_ascii=ascii_only) == text
            padded = f" \n{text}\t\r "
            assert wirejson.loads(padded) == json.loads(padded)
            assert wirejson.loads(padded.encode("utf-8", "surrogatepass").decode(
                "utf-8", "surrogatepass"
            )) == json.loads(padded)  # fmt: skip


def test_real_hook_payloads_parse_as_json_parses_them() -> None:
    lines = [
        line
        for path in sorted((FIXTURES / "claude_code").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(lines) > 20
    for line in lines:
        assert wirejson.loads(line) == json.loads(line)
        assert wirejson.loads(line.encode()) == json.loads(line)


def test_constants_match_json() -> None:
    for text in ("NaN", "Infinity", "-Infinity", "[1e400, -0.0, 1E-5]"):
        assert repr(wirejson.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize(
    "text", ["", "   ", "{", '{"a": 1} x', "[1,]", "\ufeff{}", "nul", "{'a': 1}", '"\\x"', "[1 2]"]
)
def test_malformed_input_raises_what_json_raises(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as ours:
        wirejson.loads(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert ours.value.msg == theirs.value.msg


def test_invalid_utf8_and_unencodable_values_are_clear_errors() -> None:
    with pytest.raises(ValueError):
        wirejson.loads(b'{"a": "\xff"}')
    with pytest.raises(TypeError, match="not JSON serializable"):
        wirejson.dumps({"a": object()})
    with pytest.raises(TypeError):
        wirejson.dumps({(1, 2): 3})  # json refuses tuple keys too


def test_it_imports_neither_json_nor_re() -> None:
    code = (
        "import sys; from acontext_mcp import wirejson; "
        'wirejson.dumps(wirejson.loads(\'{"a": [1, 2.5, "\\\\u00e9"]}\')); '
        "print(sorted({'json', 're', 'enum'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("text", ['{"a": 1', '{"a": 1} x', "[1,]", '{"a": "\\x"}', "nul"])
def test_malformed_input_in_a_process_that_never_imported_json(text: str) -> None:
    """The hooks' own case: json is not imported when the payload is bad, and the C scanner
    needs json.decoder to raise its error (CPython 3.11): the error is still json's."""
    code = (
        "import sys; from acontext_mcp import wirejson\n"
        "assert 'json.decoder' not in sys.modules\n"
        "try:\n"
        f"    wirejson.loads({text!r})\n"
        "except ValueError as exc:\n"
        "    print(type(exc).__name__, exc.msg)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert out.stdout.strip() == f"JSONDecodeError {theirs.value.msg}"

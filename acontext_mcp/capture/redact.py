"""Secret redaction: nothing captured from an agent's turn reaches the store with a credential.

Provider tokens, cloud keys, private key blocks, JWTs, `Authorization` headers, URL passwords
and secret-named assignments become typed placeholders (`[REDACTED:github_token]`);
`<private>...</private>` spans become `[private]`. Stdlib only: this runs inside hooks.

Precision over recall on code: transcripts are full of source that *mentions* passwords and
tokens (`password = request.form["password"]`), so assignments are redacted only when the name
is secret-shaped and the value is a literal that looks like a credential. There is no bare
entropy detection: hashes, commit ids, UUIDs and base64 images would all trip it.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

PRIVATE_MARK = "[private]"


def placeholder(kind: str) -> str:
    """The text a secret of this kind is replaced with. No part of the secret is kept."""
    return f"[REDACTED:{kind}]"


# --- <private> spans ---

_PRIVATE_TAG = re.compile(r"<(/?)private(?:\s[^<>]*)?>", re.IGNORECASE)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lower(text: str) -> str:
    """Lowercased text with the same offsets, for matching there and replacing in `text`.

    Trigger: a character whose lowercase has another length ("İ"). Why: offsets found in the
    lowercased text would point at the wrong characters. Outcome: only ASCII is lowercased.
    """
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


def _drop_private(text: str, counts: Counter[str]) -> str:
    """Replace each outermost <private> span with PRIVATE_MARK; nesting is counted.

    Trigger: an opening tag with no closing tag. Why: the user marked where private text
    starts; a missing closer (typo, truncated output) must not publish what follows.
    Outcome: an unclosed span drops everything to the end of this text. A stray closing tag
    outside any span is left as it is.
    """
    out: list[str] = []
    depth = 0
    pos = 0
    for m in _PRIVATE_TAG.finditer(text):
        closing = m.group(1) == "/"
        if depth == 0:
            if closing:
                continue
            out.append(text[pos : m.start()])
            out.append(PRIVATE_MARK)
            counts["private"] += 1
            depth = 1
        else:
            depth += -1 if closing else 1
            if depth == 0:
                pos = m.end()
    if depth == 0:
        out.append(text[pos:])
    return "".join(out)


# --- Provider and structural patterns ---

_PLACEHOLDER_WORDS = frozenset(
    [
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "empty",
        "string",
        "str",
        "bytes",
        "number",
        "int",
        "bool",
        "boolean",
        "any",
        "unknown",
        "object",
        "optional",
        "required",
        "secret",
        "secrets",
        "password",
        "passwd",
        "pass",
        "pwd",
        "token",
        "key",
        "apikey",
        "api_key",
        "api-key",
        "changeme",
        "change_me",
        "change-me",
        "placeholder",
        "redacted",
        "dummy",
        "test",
        "testing",
        "example",
        "sample",
        "default",
        "hidden",
        "masked",
        "bearer",
        "basic",
        "env",
        "todo",
        "tbd",
        "my-secret",
        "mysecret",
        "mypassword",
        "hunter2",
    ]
)
_PLACEHOLDER_PARTS = (
    "your_", "your-", "${", "{{", "%(", "%s", "[redacted", "[private]", "example",
    "placeholder", "changeme", "xxxx", "***", "...",
)  # fmt: skip


def _is_placeholder(value: str) -> bool:
    """Values that stand for a secret without being one: `xxx`, `<your-key>`, `${VAR}`..."""
    if not value:
        return True
    low = value.lower()
    if low in _PLACEHOLDER_WORDS or len(set(value)) == 1 or value[0] in "$%@":
        return True
    if ("<" in value and ">" in value) or ("{" in value and "}" in value):
        return True
    return any(part in low for part in _PLACEHOLDER_PARTS)


def _pem_has_key_material(m: re.Match[str]) -> bool:
    # A PEM header alone is code or docs that mention keys (`startswith("-----BEGIN ...")`).
    body = m.group("body").replace("\\n", "").replace("\\r", "")
    return sum(not c.isspace() for c in body) >= 16


def _credential_not_placeholder(m: re.Match[str]) -> bool:
    return not _is_placeholder(m.group("s"))


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: str  # compiled on first use (`re` caches it): a hook pays only for what it meets
    triggers: tuple[str, ...]  # the rule runs only if one of these is in the text
    check: Callable[[re.Match[str]], bool] | None = None  # False keeps the match as it is
    by_group: bool = False  # the kind is the name of the group that matched (one scan, many)
    on_lower: bool = False  # match the lowercased text; replace the same offsets in the text


def _token(
    kind: str,
    prefix: str,
    body: str,
    *,
    before: str = "A-Za-z0-9_-",
    triggers: tuple[str, ...] = (),
) -> _Rule:
    """A token: `prefix` + `body`, not glued to a longer word on either side.

    The boundary before the token is a lookbehind placed after the prefix, so the pattern
    starts with a literal and `re` finds candidates with a substring search (about 1 µs/KB
    instead of about 18 with a leading lookbehind).
    """
    source = f"{prefix}(?<![{before}]{prefix}){body}(?![A-Za-z0-9_-])"
    return _Rule(kind, source, triggers or (prefix.replace("\\", ""),))


# Order matters: whole blocks first, then tokens with a known shape, then context-only rules,
# so a provider token inside a header or an assignment is named by its provider.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "private_key",
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY-----"
        r"(?P<body>(?:\\[rn/]|[A-Za-z0-9+/=\s:,.-])*?)"
        r"(?:-----END[ A-Z0-9]*PRIVATE KEY-----|(?=\s*(?:[^A-Za-z0-9+/=\s:,.\\-]|\Z)))",
        ("-----BEGIN",),
        check=_pem_has_key_material,
    ),
    _token("jwt", "eyJ", r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),
    # One scan for the sk- family; the named group that matched is the kind. Mixed case with
    # a digit, or long hex, for OpenAI-style keys: keeps `sk-learn-style-words` out.
    replace(
        _token(
            "openai_key",
            "sk-",
            r"(?:(?P<anthropic_key>ant-[A-Za-z0-9_-]{20,})|(?P<openrouter_key>or-v1-[0-9a-f]{32,})"
            r"|(?P<openai_key>(?!ant-|or-v1-)(?:(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])"
            r"[A-Za-z0-9_-]{20,}|[0-9a-f]{32,})))",
        ),
        by_group=True,
    ),
    _token(
        "github_token",
        "gh[pousr]_",
        r"[A-Za-z0-9]{36,}",
        before="A-Za-z0-9_",
        triggers=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _token("github_token", "github_pat_", r"[A-Za-z0-9_]{40,}", before="A-Za-z0-9_"),
    _token("gitlab_token", "glpat-", r"[A-Za-z0-9_-]{20,}"),
    _token("slack_token", "xox[abprs]-", r"[A-Za-z0-9-]{10,}", triggers=("xox",)),
    _Rule(
        "slack_webhook",
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
        ("hooks.slack.com",),
    ),
    _token(
        "stripe_key",
        "[sr]k_",
        r"(?:live|test)_[A-Za-z0-9]{16,}",
        before="A-Za-z0-9_",
        triggers=("k_live_", "k_test_"),
    ),
    _token("stripe_key", "whsec_", r"[A-Za-z0-9]{24,}", before="A-Za-z0-9_"),
    _token("google_api_key", "AIza", r"[0-9A-Za-z_-]{35}"),
    _token("google_oauth_secret", "GOCSPX-", r"[A-Za-z0-9_-]{20,}"),
    _token("google_oauth_token", r"ya29\.", r"[0-9A-Za-z_-]{20,}"),
    _token(
        "aws_access_key_id",
        "A[KS]IA",
        r"[0-9A-Z]{16}",
        before="A-Za-z0-9",
        triggers=("AKIA", "ASIA"),
    ),
    _token("npm_token", "npm_", r"[A-Za-z0-9]{36}", before="A-Za-z0-9_"),
    _token("huggingface_token", "hf_", r"[A-Za-z0-9]{30,}", before="A-Za-z0-9_"),
    _Rule(
        "url_password",
        # scheme://user:PASSWORD@host. The user name stays: it is rarely secret, helps reading.
        r"://[^\s:/@?#\"'<>\[\]]{0,256}:(?P<s>[^\s/@?#\"'<>\[\]]{1,256})(?=@)",
        ("://",),
        check=_credential_not_placeholder,
    ),
    # Header rules run on the lowercased text (same offsets), so they too start with a literal.
    _Rule(
        "auth_header",
        r"authorization(?<![a-z0-9_]authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?:(?:bearer|basic|token|digest|bot)[ \t]+)?"
        r"(?P<s>[a-z0-9._~+/-]{8,}=*)(?![a-z0-9._~+/=-])",
        ("authorization",),
        check=_credential_not_placeholder,
        on_lower=True,
    ),
    _Rule(
        "auth_header",
        r"bearer(?<![a-z0-9_]bearer)[ \t]+(?=[a-z0-9._~+/-]*[0-9])(?=[a-z0-9._~+/-]{16})"
        r"(?P<s>[a-z0-9._~+/-]{8,}=*)(?![a-z0-9._~+/=-])",
        ("bearer",),
        check=_credential_not_placeholder,
        on_lower=True,
    ),
)


def _apply_rule(rule: _Rule, text: str, low: str, counts: Counter[str]) -> str:
    """Replace each match's secret (group `s`, or the whole match) with its placeholder."""
    source = low if rule.on_lower else text
    if not any(t in source for t in rule.triggers):
        return text
    pattern = re.compile(rule.pattern)
    out: list[str] = []
    pos = 0
    has_group = "s" in pattern.groupindex
    for m in pattern.finditer(source):
        if rule.check is not None and not rule.check(m):
            continue
        kind = (m.lastgroup or rule.kind) if rule.by_group else rule.kind
        counts[kind] += 1
        start, end = m.span("s") if has_group else m.span()
        out.append(text[pos:start])
        out.append(placeholder(kind))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# --- Secret-named assignments ---

# Words a secret's name contains, looked up in the lowercased text with str.find: several
# plain substring scans cost about half of one alternation regex.
_HINTS = ("pass", "pwd", "secret", "token", "key", "cred", "auth")
_NAME_BACK = re.compile(r"[\w.-]*")  # a name, read backwards from a hint
_NAME_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_TRAILING_DIGITS = re.compile(r"\d+$")
# Segments after the secret word that still name the secret itself (SECRET_KEY_BASE).
_NAME_TAILS = frozenset({"value", "base", "b64", "base64", "hex", "raw", "plain", "plaintext"})
# `<qualifier>_key` is a secret; a bare `key` (sort_key, primary_key, "key": ...) is not.
_KEY_QUALIFIERS = frozenset(
    {
        "api", "secret", "private", "access", "client", "signing", "sign", "master",
        "encryption", "enc", "auth", "license", "licence", "service", "account", "app",
        "consumer", "admin", "root", "shared", "storage", "deploy", "subscription", "webhook",
        "ssh", "hmac", "jwt",
    }
)  # fmt: skip
_GLUED_KEYS = ("apikey", "secretkey", "accesskey", "privatekey", "signingkey", "masterkey")


@lru_cache(maxsize=4096)
def secret_name_kind(name: str) -> str | None:
    """The kind of secret a variable, key or flag name holds, or None for ordinary names.

    The secret word must be the last segment of the name (camelCase, snake_case, kebab-case
    and dotted names are split), so `password_field`, `token_count`, `tokenizer` and
    `max_tokens` are ordinary, while `DB_PASSWORD`, `apiKey` and `--auth-token` are not.
    """
    segs = [_TRAILING_DIGITS.sub("", s).lower() for s in _NAME_SPLIT.split(name) if s]
    segs = [s for s in segs if s]
    while len(segs) > 1 and segs[-1] in _NAME_TAILS:
        segs.pop()
    if not segs:
        return None
    last = segs[-1]
    kind: str | None = None
    if last.endswith(("password", "passwd", "passphrase")) or (
        last in ("pass", "pwd") and len(segs) > 1  # PWD alone is the working directory
    ):
        kind = "password"
    elif last.endswith("secret"):
        kind = "secret"
    elif last.endswith("token"):
        kind = "token"
    elif last.endswith(("credential", "credentials")) or last == "creds":
        kind = "credential"
    elif last in ("auth", "oauth", "authorization"):
        kind = "auth"
    elif last.endswith(_GLUED_KEYS):
        kind = "api_key" if last.endswith("apikey") else "secret_key"
    elif last == "key" and len(segs) > 1 and segs[-2] in _KEY_QUALIFIERS:
        kind = "api_key" if segs[-2] == "api" else "secret_key"
    if kind in ("secret", "secret_key") and any(s.startswith("aws") for s in segs):
        kind = "aws_secret_key"
    return kind


_IDENTIFIER_LIKE = re.compile(
    r"^[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][\w$]*)*$|^[\w$]+(?:\.[\w$]+)+$"
)
_PATH_LIKE = re.compile(r"^(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]*)*$")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_STRONG = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])")


def secret_value(value: str, kind: str, *, literal: bool = True) -> bool:
    """Whether `value`, held by a name of this kind, should be treated as a secret.

    `literal` is False for unquoted values outside env-style `NAME=value` lines: there a bare
    identifier (`password = password`, `token: accessToken`) is code, so the value must mix
    letters and digits to count.
    """
    if len(value) < (6 if kind == "password" else 8) or any(c.isspace() for c in value):
        return False
    if _is_placeholder(value) or _URL_LIKE.match(value):
        return False
    if _PATH_LIKE.match(value) and "+" not in value and not value.endswith("="):
        return False  # a file holding the secret is a reference, not the secret
    if not literal and (_IDENTIFIER_LIKE.match(value) or not _STRONG.match(value)):
        return False
    if kind != "password":
        if value.isdigit():
            return False
        plain = value.replace("-", "").replace("_", "")
        if plain.isalpha() and plain.islower() and len(value) < 20:
            return False  # a lowercase word or slug: a mode, a name, an enum value
    return True


_ASSIGN = re.compile(
    r"""
    (?<![\w.$-])
    (?P<name>-{0,2}[A-Za-z_][\w.-]*+)
    (?:\\?["'])?\]?                               # the end of "name" or ["name"]
    (?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]{0,40}?(?=[ \t]*=[^=>]))?   # name: str = value
    (?P<gap>[ \t]*(?P<sep>:=|=>|=(?![=~])|:(?![:/\\]))[ \t]*)
    (?:
        (?P<q>\\?["'`])(?P<qv>[^"'`\s\\]{1,500}?)(?P=q)
      | (?P<uv>[^\s"'`,;&(){}\[\]<>\\]{1,500}+)(?=[\s"'`,;&)}\]\\]|\Z)
    )
    """,
    re.VERBOSE,
)
_FLAG = re.compile(
    r"(?<![\w-])(?P<name>--?[A-Za-z][\w-]*+)[ \t]+"
    r"(?:(?P<q>[\"'])(?P<qv>[^\"'\s\\]{1,500}?)(?P=q)|(?P<uv>[^\s\"'`;&|()<>\\]{1,500}+)(?=\s|\Z))"
)
_LINE_END = re.compile(r"[ \t]*(?:$|#|//)", re.MULTILINE)


def _assignment_repl(counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        kind = secret_name_kind(m.group("name"))
        if kind is None:
            return m.group(0)
        group = "qv" if m.group("qv") is not None else "uv"
        value = m.group(group)
        literal = group == "qv"
        if not literal:
            name = m.group("name")
            sep = m.groupdict().get("sep")
            env_style = sep == "=" and m.group("gap") == "=" and name.upper() == name
            eol = sep == ":" and _LINE_END.match(m.string, m.end()) is not None
            literal = env_style or (eol and not _IDENTIFIER_LIKE.match(value))
        if not secret_value(value, kind, literal=literal):
            return m.group(0)
        counts[kind] += 1
        start, end = m.span(group)
        whole, base = m.group(0), m.start()
        return whole[: start - base] + placeholder(kind) + whole[end - base :]

    return repl


def _hint_positions(low: str) -> list[int]:
    found: list[int] = []
    for hint in _HINTS:
        at = low.find(hint)
        while at >= 0:
            found.append(at)
            at = low.find(hint, at + 1)
    found.sort()
    return found


def _redact_assignments(text: str, low: str, counts: Counter[str]) -> str:
    """Redact secret-named assignments and flags, anchored on the secret words in `low`.

    Trigger: every text with `key`, `token`, `pass`... in it (most code). Why: running the
    assignment pattern at every word costs ~100 µs/KB; anchoring it on the hint words found
    in the lowercased text, and finding each name's start in the reversed text, keeps it to a
    few match attempts. Outcome: the same matches as `_ASSIGN.sub` over the whole text.
    """
    repl = _assignment_repl(counts)
    rev = text[::-1]
    size = len(text)
    out: list[str] = []
    pos = 0
    last_start = -1
    for hit in _hint_positions(low):
        back = _NAME_BACK.match(rev, size - hit)
        start = hit - (back.end() - back.start())  # type: ignore[union-attr]
        if start == last_start or start < pos:
            continue
        last_start = start
        m = _ASSIGN.match(text, start)
        if m is None and text.startswith("-", start):
            m = _FLAG.match(text, start)
        if m is None:
            continue
        new = repl(m)
        if new != m.group(0):
            out.append(text[pos:start])
            out.append(new)
            pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# --- Public API ---


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """Return `text` with secrets replaced by typed placeholders, and a count per kind.

    Never keeps any character of a secret. Text without secrets comes back unchanged (the
    same string object), so callers can cheaply tell whether anything changed.
    """
    counts: Counter[str] = Counter()
    if not text:
        return text, counts
    low = _lower(text)
    if "<private" in low:
        text = _drop_private(text, counts)
        low = _lower(text)
    for rule in _RULES:
        new = _apply_rule(rule, text, low, counts)
        if new is not text:
            text = new
            low = _lower(text)
    if any(h in low for h in _HINTS):
        text = _redact_assignments(text, low, counts)
    return text, counts


_BINARY = re.compile(r"[A-Za-z0-9+/=_-]*")
_BINARY_KEYS = frozenset({"data", "signature"})  # base64 payloads and provider signatures


def _redact_str(value: str, counts: Counter[str]) -> str:
    if len(value) > 4096 and _BINARY.fullmatch(value):
        return value  # a base64 payload, not text: scanning it costs and finds nothing
    red, found = redact_text(value)
    counts.update(found)
    return red


def _redact_value(value: Any, counts: Counter[str]) -> Any:
    """A copy of a JSON-like value with every string leaf redacted.

    A string under a secret-shaped key (`{"password": "..."}`) is judged as an assignment too,
    since the key is not part of the leaf's text.
    """
    if isinstance(value, str):
        return _redact_str(value, counts)
    if isinstance(value, list):
        return [_redact_value(v, counts) for v in value]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new = _redact_value(item, counts)
            if isinstance(new, str) and new == item and isinstance(key, str):
                kind = secret_name_kind(key)
                if kind is not None and secret_value(item, kind):
                    counts[kind] += 1
                    new = placeholder(kind)
            out[key] = new
        return out
    return value


def _redact_arguments(arguments: Any, counts: Counter[str]) -> Any:
    """Tool-call arguments stay valid JSON: redact the parsed values, then re-serialize."""
    if not isinstance(arguments, str):
        return _redact_value(arguments, counts)
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return _redact_str(arguments, counts)
    found: Counter[str] = Counter()
    red = _redact_value(parsed, found)
    if not found:
        return arguments  # unchanged: keep the original text byte for byte
    counts.update(found)
    return json.dumps(red, ensure_ascii=False)


def _redact_part(part: Any, counts: Counter[str]) -> Any:
    if not isinstance(part, dict):
        return _redact_value(part, counts)
    kind = part.get("type")
    new = dict(part)
    if kind in ("text", "thinking"):
        # A thinking part's signature no longer matches redacted text; privacy wins.
        if isinstance(part.get("text"), str):
            new["text"] = _redact_str(part["text"], counts)
    elif kind == "tool-call":
        if "arguments" in part:
            new["arguments"] = _redact_arguments(part["arguments"], counts)
    elif kind == "tool-result":
        content = part.get("content")
        if isinstance(content, list):
            new["content"] = [_redact_part(item, counts) for item in content]
        elif isinstance(content, str):
            new["content"] = _redact_str(content, counts)
    elif kind in ("image", "audio", "file"):
        source = part.get("source")
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            new["source"] = {**source, "url": _redact_str(source["url"], counts)}
        for field in ("filename", "title"):
            if isinstance(part.get(field), str):
                new[field] = _redact_str(part[field], counts)
    elif kind == "redacted_thinking":
        pass  # encrypted by the provider: nothing readable to redact
    elif kind == "opaque":
        new["value"] = _redact_value(part.get("value"), counts)
    else:
        for key, item in part.items():
            if key not in _BINARY_KEYS and key not in ("type", "meta"):
                new[key] = _redact_value(item, counts)
    if isinstance(part.get("meta"), dict):
        new["meta"] = _redact_value(part["meta"], counts)
    return new


def redact_value(value: Any) -> tuple[Any, Counter[str]]:
    """A redacted copy of any JSON-like value (event data, metadata), and the count per kind."""
    counts: Counter[str] = Counter()
    return _redact_value(value, counts), counts


def redact_message(message: dict[str, Any]) -> tuple[dict[str, Any], Counter[str]]:
    """A redacted copy of an internal-form message, and the count per kind. The input is
    never mutated.

    Covers text and thinking, tool-call arguments (kept valid JSON), tool-result content,
    media URLs and file names, opaque parts' string leaves, and string values in `meta`.
    """
    counts: Counter[str] = Counter()
    out = dict(message)
    parts = message.get("parts")
    if isinstance(parts, list):
        out["parts"] = [_redact_part(part, counts) for part in parts]
    if isinstance(message.get("meta"), dict):
        out["meta"] = _redact_value(message["meta"], counts)
    return out, counts

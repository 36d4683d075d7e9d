"""Secret redaction: nothing captured from an agent's turn reaches the store with a credential.

Provider tokens, cloud keys, private key blocks, JWTs, `Authorization` headers, URL passwords,
secret-named assignments and secrets told in a sentence ("my aws secret key is ...") become
typed placeholders (`[REDACTED:github_token]`);
`<private>...</private>` spans become `[private]`. Stdlib only: this runs inside hooks.

Precision over recall on code: transcripts are full of source that *mentions* passwords and
tokens (`password = request.form["password"]`), so assignments are redacted only when the name
is secret-shaped and the value is a literal that looks like a credential. There is no bare
entropy detection: hashes, commit ids, UUIDs and base64 images would all trip it; a base64
run is decoded instead, and redacted when the text it holds has a secret.

The corpora in tests/fixtures/redaction/ and tests/support/redaction_corpus.py hold what must
be caught and what must be left alone; bench/bench_redact.py prints recall per kind, false
positives and speed.
"""

from __future__ import annotations

import binascii
import json
import re
import string
from bisect import bisect_right
from collections import Counter
from functools import lru_cache

# Neither typing nor dataclasses at run time (~9 ms of imports): a SessionStart whose skill sync
# meets a changed file scans it with this module while Claude Code waits, and every capture
# child imports it. Type checkers read TYPE_CHECKING as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    _M = TypeVar("_M", bound=Mapping[str, Any])  # a message: internal `Message` or a plain dict

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


def _cut_private(text: str, counts: Counter[str], depth: int = 0) -> tuple[str, int]:
    """Replace each outermost <private> span with PRIVATE_MARK; nesting is counted.

    Trigger: an opening tag with no closing tag. Why: the user marked where private text
    starts; a missing closer (typo, truncated output) must not publish what follows.
    Outcome: an unclosed span drops everything to the end of this text, and the depth still
    open is returned so a message can keep dropping its later blocks. `depth` > 0 means the
    text starts inside a span opened in an earlier block: it is dropped up to the closer,
    without a second mark. A stray closing tag outside any span is left as it is.
    """
    out: list[str] = []
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
    return "".join(out), depth


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


_CODE_VALUE = re.compile(r"[a-z_]+(?:\.[a-z_]+)+")  # self.headers.get, base64.decodebytes
_CODE_WORDS = frozenset({"authorization", "auth", "token", "header", "headers", "credentials"})


def _header_value(m: re.Match[str]) -> bool:
    """A header's value, not code that reads the header (`authorization = req.headers.get(`).

    Runs on the lowercased text, where a variable and a credential look alike only when the
    credential has no digit, no `+/=`: then its shape (dotted, called, a known word) decides.
    """
    value = m.group("s")
    if (
        _CODE_VALUE.fullmatch(value)
        or value in _CODE_WORDS
        or m.string[m.end() : m.end() + 1] in ("(", "[")
    ):
        return False
    return _credential_not_placeholder(m)


def _pem_has_key_material(m: re.Match[str]) -> bool:
    # A PEM header alone is code or docs that mention keys (`startswith("-----BEGIN ...")`).
    body = m.group("body").replace("\\n", "").replace("\\r", "")
    return sum(not c.isspace() for c in body) >= 16


def _credential_not_placeholder(m: re.Match[str]) -> bool:
    return not _is_placeholder(m.group("s"))


_RULE_FIELDS = (
    "kind", "pattern", "triggers", "check", "by_group", "on_lower", "wraps", "in_runs", "flag"
)  # fmt: skip


class _Rule:
    """One kind of secret and how it is found. (Written out, not a frozen dataclass: see the
    imports.)"""

    __slots__ = _RULE_FIELDS
    kind: str
    pattern: str  # compiled on first use (`re` caches it): a hook pays only for what it meets
    triggers: tuple[str, ...]  # the rule runs only if one of these is in the text
    check: Callable[[re.Match[str]], bool] | None  # False keeps the match as it is
    by_group: bool  # the kind is the name of the group that matched (one scan, many)
    on_lower: bool  # match the lowercased text; replace the same offsets in the text
    wraps: bool  # a token that may go on at the start of the next line (see _wrapped)
    in_runs: bool  # a token of `_RUN_CHARS` only: matched in the runs (_redact_tokens)
    flag: bool  # a command-line flag: runs only on a text with " -" or "\t-" in it

    def __init__(
        self,
        kind: str,
        pattern: str,
        triggers: tuple[str, ...],
        check: Callable[[re.Match[str]], bool] | None = None,
        by_group: bool = False,
        on_lower: bool = False,
        wraps: bool = False,
        in_runs: bool = False,
        flag: bool = False,
    ) -> None:
        values = (kind, pattern, triggers, check, by_group, on_lower, wraps, in_runs, flag)
        for name, value in zip(_RULE_FIELDS, values, strict=True):
            setattr(self, name, value)

    def replace(self, **changes: Any) -> _Rule:
        """A copy with `changes` applied."""
        return _Rule(**{**{n: getattr(self, n) for n in _RULE_FIELDS}, **changes})

    def __repr__(self) -> str:
        return f"_Rule({self.kind!r}, {self.pattern!r})"


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
    return _Rule(kind, source, triggers or (prefix.replace("\\", ""),), wraps=True, in_runs=True)


def _cli_password(command: str, flag: str, triggers: tuple[str, ...]) -> _Rule:
    """A password given to a command on its command line (`sshpass -p PASS`).

    The flag must follow the command within the same command (no `|`, `;`, `&` between), so
    `-p` of other programs (a port, a path) is left alone.
    """
    source = (
        rf"{command}\b[^\n|;&]*?[ \t]{flag}[\"']?(?P<s>[^\s\"'`|;&]{{3,}})[\"']?(?=[\s|;&)]|\Z)"
    )
    return _Rule("password", source, triggers, check=_credential_not_placeholder, flag=True)


_NETRC_ENTRY = re.compile(
    r"(?:\A|\n)[ \t]*(?:machine[ \t]+\S+|default)"
    r"(?:\s+(?:login|account|port|protocol)[ \t]+\S+)*\s+\Z"
)


def _netrc_entry(m: re.Match[str]) -> bool:
    # `password X` counts only as the field of a .netrc entry: prose says "password field".
    before = m.string[max(0, m.start() - 400) : m.start()]
    return _NETRC_ENTRY.search(before) is not None and _credential_not_placeholder(m)


def _discord_token(m: re.Match[str]) -> bool:
    # The first part of a Discord bot token is the bot's numeric id in base64.
    head = m.group("id")
    if m.start() > 0 and (m.string[m.start() - 1].isalnum() or m.string[m.start() - 1] in "_-"):
        return False
    try:
        return binascii.a2b_base64(head + "=" * (-len(head) % 4)).isdigit()
    except binascii.Error:
        return False


def _telegram_token(m: re.Match[str]) -> bool:
    # Not glued to a longer word, except the `bot` of an API URL (`/bot123:AA.../getMe`)
    before = m.string[max(0, m.start() - 3) : m.start()]
    return not before[-1:].isalnum() or before == "bot"


# Order matters: whole blocks first, then tokens with a known shape, then context-only rules,
# so a provider token inside a header or an assignment is named by its provider.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "private_key",
        # PEM (RSA, EC, PKCS#8, encrypted), OpenSSH and PGP armor (with its header lines)
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?P<body>(?:\\[rn/]|[A-Za-z0-9+/=\s:,.()@<>-])*?)"
        r"(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
        r"|(?=\s*(?:[^A-Za-z0-9+/=\s:,.()@<>\\-]|\Z)))",
        ("-----BEGIN",),
        check=_pem_has_key_material,
    ),
    _Rule(
        "private_key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        ("AGE-SECRET-KEY-1",),
        in_runs=True,
    ),
    _token("jwt", "eyJ", r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),
    # One scan for the sk- family; the named group that matched is the kind. Mixed case with
    # a digit, or long hex, for OpenAI-style keys: keeps `sk-learn-style-words` out.
    _token(
        "openai_key",
        "sk-",
        r"(?:(?P<anthropic_key>ant-[A-Za-z0-9_-]{20,})|(?P<openrouter_key>or-v1-[0-9a-f]{32,})"
        r"|(?P<openai_key>(?!ant-|or-v1-)(?:(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])"
        r"[A-Za-z0-9_-]{20,}|[0-9a-f]{32,})))",
    ).replace(by_group=True),
    _token(
        "github_token",
        "gh[pousr]_",
        r"[A-Za-z0-9]{36,}",
        before="A-Za-z0-9_",
        triggers=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _token("github_token", "github_pat_", r"[A-Za-z0-9_]{40,}", before="A-Za-z0-9_"),
    _token("gitlab_token", "glpat-", r"[A-Za-z0-9_-]{20,}"),
    _token("gitlab_token", "gl(?:dt|rt)-", r"[A-Za-z0-9_-]{20,}", triggers=("gldt-", "glrt-")),
    _token("slack_token", "xox[abprs]-", r"[A-Za-z0-9-]{15,}", triggers=("xox",)),
    _token("slack_token", "xapp-", r"[0-9]-[A-Za-z0-9-]{20,}"),
    _Rule(
        "slack_webhook",
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
        ("hooks.slack.com",),
    ),
    _Rule(
        "discord_webhook",
        r"https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/"
        r"(?P<s>[A-Za-z0-9_-]{20,})",
        ("/api/webhooks/",),
    ),
    _Rule(
        "discord_token",
        r"(?P<id>[MNO][A-Za-z0-9_-]{23,27})\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}"
        r"(?![A-Za-z0-9_-])",
        (".",),
        check=_discord_token,
        in_runs=True,
    ),
    _Rule(
        "telegram_bot_token",
        r"[0-9]{6,12}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])",
        (":AA",),
        check=_telegram_token,
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
    _token("pypi_token", "pypi-", r"AgE[A-Za-z0-9_-]{50,}"),
    _token("sendgrid_key", r"SG\.", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    _token("twilio_key", "SK", r"[0-9a-f]{32}", before="A-Za-z0-9_"),
    _Rule(
        "twilio_auth_token",
        # An account SID, then its auth token: `Client("AC...", "...")`, `-u AC...:...`
        r"AC(?<![A-Za-z0-9_]AC)[0-9a-f]{32}[\"']?[ \t]*[,:][ \t]*[\"']?(?P<s>[0-9a-f]{32})\b",
        ("AC",),
    ),
    _token("vault_token", r"hv[sbr]\.", r"[A-Za-z0-9_-]{24,}", triggers=("hvs.", "hvb.", "hvr.")),
    _token("groq_key", "gsk_", r"[A-Za-z0-9]{48,}", before="A-Za-z0-9_"),
    _token("xai_key", "xai-", r"[A-Za-z0-9]{60,}"),
    _token("replicate_token", "r8_", r"[A-Za-z0-9]{36,}", before="A-Za-z0-9_"),
    _token("digitalocean_token", "do[opr]_v1_", r"[a-f0-9]{64}", triggers=("_v1_",)),
    _token("databricks_token", "dapi", r"[a-f0-9]{32}(?:-[0-9]+)?", before="A-Za-z0-9_"),
    _token("shopify_token", "shp(?:at|ss|ca|pa)_", r"[a-fA-F0-9]{32}", triggers=("shp",)),
    _Rule(
        "url_password",
        # scheme://user:PASSWORD@host. The user name stays: it is rarely secret, helps reading.
        r"://[^\s:/@?#\"'<>\[\]]{0,256}:(?P<s>[^\s/@?#\"'<>\[\]]{1,256})(?=@)",
        ("://",),
        check=_credential_not_placeholder,
    ),
    _Rule(
        "password_hash",
        # htpasswd, /etc/shadow: a leaked hash is cracked offline, so it is a credential too.
        r"\$(?:(?:apr1|1)\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}"
        r"|2[abxy]?\$[0-9]{2}\$[./0-9A-Za-z]{53}"
        r"|[56]\$(?:rounds=[0-9]+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43,86}"
        r"|y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43})(?![./0-9A-Za-z])",
        ("$",),
    ),
    _Rule("password_hash", r"\{S?SHA\}[A-Za-z0-9+/]{27,}=*", ("SHA}",)),
    # Passwords on command lines
    _Rule(
        "password",
        r"curl\b[^\n|;&]*?[ \t](?:-[A-Za-z]*u|--user|--proxy-user|-U)(?:[ \t]+|=)?[\"']?"
        r"[^\s:\"']*:(?P<s>[^\s\"']+)",
        ("curl",),
        check=_credential_not_placeholder,
        flag=True,
    ),
    _cli_password(r"(?:mysql\w*|mariadb\w*)", r"(?:-p|--password=)", ("mysql", "mariadb")),
    _cli_password("sshpass", r"-p[ \t]*", ("sshpass",)),
    _cli_password(
        r"(?:docker|podman|nerdctl|buildah|skopeo|helm|oras|crane|az|cf|oc|argocd)"
        r"(?:[ \t]+\w+)?[ \t]+login",
        r"-p[ \t]+",
        ("login",),
    ),
    _cli_password("redis-cli", r"-a[ \t]+", ("redis-cli",)),
    _cli_password(r"(?:ldap\w+)", r"-w[ \t]+", ("ldap",)),
    _Rule(
        "password",
        # htpasswd -b[c] FILE USER PASSWORD
        r"htpasswd(?=[^\n|;&]*[ \t]-\w*b)(?:[ \t]+-\w+)*[ \t]+\S+[ \t]+\S+[ \t]+[\"']?"
        r"(?P<s>[^\s\"'|;&]+)",
        ("htpasswd",),
        check=_credential_not_placeholder,
        flag=True,
    ),
    _Rule(
        "password",
        r"-pass(?:in|out|word)?[ \t]+[\"']?pass:(?P<s>[^\s\"']+)",  # openssl
        ("pass:",),
        check=_credential_not_placeholder,
        flag=True,
    ),
    _Rule(
        "password",
        r"echo[ \t]+(?:-n[ \t]+)?[\"']?(?P<s>[^\s\"'|]+)[\"']?[ \t]*\|[^\n|]*--password-stdin",
        ("--password-stdin",),
        check=_credential_not_placeholder,
        flag=True,
    ),
    _Rule(
        "password",
        r"password(?<![^\s]password)[ \t]+(?P<s>[^\s]+)",
        ("password",),
        check=_netrc_entry,
    ),
    # Header rules run on the lowercased text (same offsets), so they too start with a literal.
    _Rule(
        "auth_header",
        r"authorization(?<![a-z0-9_]authorization)[\"']?\]?[ \t]*[:=][ \t]*[\"']?"
        r"(?:(?:bearer|basic|token|digest|bot)[ \t]+)?"
        r"(?P<s>[a-z0-9._~+/-]{8,}=*)(?![a-z0-9._~+/=-])",
        ("authorization",),
        check=_header_value,
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

# The rest of a token wrapped onto the next line: letters mixed with digits, or an upper
# case letter after a lower case one, so an ordinary word on the next line (`done`,
# `README`, `Traceback`) is not taken for it.
_WRAP_REST = re.compile(
    r"\r?\n(?=[A-Za-z0-9_-]*(?:[0-9][A-Za-z0-9_-]*[A-Za-z]|[A-Za-z][A-Za-z0-9_-]*[0-9]"
    r"|[a-z][A-Za-z0-9_-]*[A-Z]))[A-Za-z0-9_-]+(?![A-Za-z0-9_.-])"
)


_WRAP_WIDTH = 60  # terminals and wrapping tools break lines at 72, 80 or more columns


def _wrapped(rule: _Rule, text: str, end: int) -> int:
    """Where a token that ends a line really ends, when its rest starts the next line.

    Trigger: a terminal or a tool wrapped a long key (`sk-proj-...` is 164 characters) at
    its width. Why: redacting only the first line would publish the rest. Outcome: the rest
    is redacted with it when the first line is at least _WRAP_WIDTH long and the next line
    does not start a token of its own (a list of keys, one per line). A token whose first
    line is shorter than the provider's minimum length is not recognised at all.
    """
    while (m := _WRAP_REST.match(text, end)) is not None:
        if end - (text.rfind("\n", 0, end) + 1) < _WRAP_WIDTH:
            break  # the line is not full: what follows is another line, not the rest
        if any(m.group().lstrip().startswith(t) for t in rule.triggers):
            break
        end = m.end()
    return end


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
        if m.start() < pos or (rule.check is not None and not rule.check(m)):
            continue
        kind = (m.lastgroup or rule.kind) if rule.by_group else rule.kind
        counts[kind] += 1
        start, end = m.span("s") if has_group else m.span()
        if rule.wraps:
            end = _wrapped(rule, text, end)
        out.append(text[pos:start])
        out.append(placeholder(kind))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# Tokens are made of these characters only, and none is shorter than a run of _RUN_MIN.
_RUN_CHARS = (string.ascii_letters + string.digits + "_.-").encode()
_RUN_FLAT = bytes(ord("a") if b in _RUN_CHARS else ord(" ") for b in range(256))
_RUN_MIN = 20  # AKIA and 16 more; Slack's shortest token part alone is 24
_RUN = b"a" * _RUN_MIN


def _runs(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each run of _RUN_CHARS at least _RUN_MIN long."""
    flat = text.encode("ascii", "replace").translate(_RUN_FLAT)  # one byte per character
    runs: list[tuple[int, int]] = []
    at = flat.find(_RUN)
    while at >= 0:
        end = flat.find(b" ", at)
        end = len(flat) if end < 0 else end
        runs.append((at, end))
        at = flat.find(_RUN, end)
    return runs


def _redact_tokens(text: str, counts: Counter[str]) -> str:
    """Apply every token rule to the runs of token characters only, joined by spaces.

    Trigger: every text; there are some 35 token rules. Why: each rule costs one scan of
    the whole text for its prefix (about 1 µs/KB), while the runs long enough to hold a
    token are a small part of prose and code. Outcome: the same matches as each rule over
    the whole text, in rule order (a span already taken by an earlier rule is skipped).
    """
    runs = _runs(text)
    if not runs:
        return text
    joined = " ".join(text[a:b] for a, b in runs)
    starts: list[int] = []  # where each run starts in `joined`
    at = 0
    for a, b in runs:
        starts.append(at)
        at += b - a + 1
    taken: list[tuple[int, int, str]] = []
    present = {t for t in _TOKEN_TRIGGERS if t in joined}
    if not present:
        return text  # no rule's prefix is in a run: every rule would be skipped
    for rule in _TOKEN_RULES:
        if present.isdisjoint(rule.triggers):
            continue
        for m in re.compile(rule.pattern).finditer(joined):
            if rule.check is not None and not rule.check(m):
                continue
            run = bisect_right(starts, m.start()) - 1
            start = runs[run][0] + m.start() - starts[run]
            end = start + m.end() - m.start()
            if rule.wraps:
                end = _wrapped(rule, text, end)
            if any(start < e and s < end for s, e, _ in taken):
                continue
            kind = (m.lastgroup or rule.kind) if rule.by_group else rule.kind
            taken.append((start, end, kind))
    if not taken:
        return text
    out: list[str] = []
    pos = 0
    for start, end, kind in sorted(taken):
        counts[kind] += 1
        out.append(text[pos:start])
        out.append(placeholder(kind))
        pos = end
    out.append(text[pos:])
    return "".join(out)


_TOKEN_RULES = tuple(rule for rule in _RULES if rule.in_runs)
_TOKEN_TRIGGERS = frozenset(t for rule in _TOKEN_RULES for t in rule.triggers)


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
    if (
        last.endswith(("password", "passwd", "passphrase"))
        or last == "pass"
        or (
            # PWD alone is the working directory; `Pwd=` of a connection string is not
            last == "pwd" and (len(segs) > 1 or name != "PWD")
        )
    ):
        kind = "password"
    elif last.endswith("secret"):
        kind = "secret"
    elif last.endswith("token"):
        kind = "token"
    elif last.endswith(("credential", "credentials")) or last == "creds":
        kind = "credential"
    elif last == "id" and segs[-3:-1] == ["private", "key"]:
        kind = "private_key_id"  # a GCP service account names its key by this id
    elif last in ("auth", "oauth", "authorization"):
        kind = "auth"
    elif last.endswith(_GLUED_KEYS):
        kind = "api_key" if last.endswith("apikey") else "secret_key"
    elif last == "key" and len(segs) > 1 and segs[-2] in _KEY_QUALIFIERS:
        kind = "api_key" if segs[-2] == "api" else "secret_key"
    elif last == "key" and len(segs) > 1 and _ENV_NAME.match(name):
        kind = "key"  # RATES_FEED_KEY: an environment variable's key; its value decides
    if kind in ("secret", "secret_key") and any(s.startswith("aws") for s in segs):
        kind = "aws_secret_key"
    return kind


_IDENTIFIER_LIKE = re.compile(
    r"^[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][\w$]*)*$|^[\w$]+(?:\.[\w$]+)+$"
)
_PATH_LIKE = re.compile(r"^(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]*)*$")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_STRONG = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")  # "ANTHROPIC_API_KEY"
_DOTTED_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)+$")
_TYPE_CONTEXT = re.compile(r"[ \t]*[|,)\]]")  # `key: PrivateKeyType | None,`


_AWS_SECRET = re.compile(r"(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9/+]{40}")
_MIN_PASSWORD = 4  # `DB_PASSWORD=root` is short and still a password
# An env variable named `<anything>_KEY` (no qualifier we know) holds a secret when its value
# is long and mixes letters and digits, as generated keys do.
_MIN_ENV_KEY = 16
# Words of the text an app shows about a password, never of a passphrase a user picked.
_UI_WORDS = frozenset(
    {
        "password", "passphrase", "enter", "your", "must", "please", "invalid", "incorrect",
        "wrong", "characters", "confirm", "forgot", "required", "reset", "new", "old",
        "current", "show", "hide", "change", "is", "are", "the", "for", "not", "of", "here",
    }
)  # fmt: skip


def _passphrase(value: str, kind: str) -> bool:
    """A quoted password with spaces in it (`"correct horse battery staple"`), not a UI
    string about passwords (`"Enter your password"`)."""
    if kind != "password" or "\n" in value or len(value) > 200 or value[-1] in ".:?":
        return False
    return not any(word in _UI_WORDS for word in value.lower().split())


def secret_value(value: str, kind: str, *, literal: bool = True) -> bool:
    """Whether `value`, held by a name of this kind, should be treated as a secret.

    `literal` is False for unquoted values outside env-style `NAME=value` lines: there a bare
    identifier (`password = password`, `token: accessToken`) is code, so the value must mix
    letters and digits to count. An AWS secret key's shape wins over placeholder words: the
    documentation's own key ends in `EXAMPLEKEY`, and users paste it and real ones alike.
    """
    if kind == "aws_secret_key" and _AWS_SECRET.fullmatch(value):
        return True
    if len(value) < (_MIN_PASSWORD if kind == "password" else 8):
        return False
    if kind == "key" and (len(value) < _MIN_ENV_KEY or not _STRONG.match(value)):
        return False  # CACHE_KEY=user_profile, PARTITION_KEY=tenant: names, not secrets
    if any(c.isspace() for c in value) and not (literal and _passphrase(value, kind)):
        return False
    if _is_placeholder(value) or _URL_LIKE.match(value):
        return False
    if _PATH_LIKE.match(value) and "+" not in value and not value.endswith("="):
        return False  # a file holding the secret is a reference, not the secret
    if not literal and (_IDENTIFIER_LIKE.match(value) or not _STRONG.match(value)):
        return False
    if _ENV_NAME.match(value) or _DOTTED_NUMBER.match(value):
        return False  # the name of a variable that holds it; an OID, a version, an address
    plain = value.replace("-", "").replace("_", "")
    if kind != "password":
        if value.isdigit():
            return False
        if plain.isalpha() and len(value) < 20:
            return False  # a word, a slug or a camelCase name: a mode, a name, an enum value
    elif plain.isalpha() and "password" in plain.lower():
        return False  # "challengePassword": the name of a field
    return True


_ASSIGN = re.compile(
    r"""
    (?<![\w.$-])
    (?P<name>-{0,2}[A-Za-z_][\w.-]*+)
    (?:\\?["'])?\]?                               # the end of "name" or ["name"]
    (?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]{0,40}?(?=[ \t]*=[^=>]))?   # name: str = value
    (?P<gap>[ \t]*(?P<sep>:=|=>|=(?![=~])|:(?![:/\\]))[ \t]*)
    (?:
        (?P<q>\\?["'`])(?P<qv>[^"'`\r\n\\]{1,500}?)(?P=q)
      | (?P<uv>[^\s"'`,;&(){}\[\]<>\\]{1,500}+)(?=[\s"'`,;&)}\]\\]|\Z)
    )
    """,
    re.VERBOSE,
)
_FLAG = re.compile(
    r"(?<![\w-])(?P<name>--?[A-Za-z][\w-]*+)[ \t]+"
    r"(?:(?P<q>[\"'])(?P<qv>[^\"'\r\n\\]{1,500}?)(?P=q)|(?P<uv>[^\s\"'`;&|()<>\\]{1,500}+)(?=\s|\Z))"
)
_LINE_END = re.compile(r"[ \t]*(?:$|#|//)", re.MULTILINE)
# <password>VALUE</password> (Maven settings.xml, .NET and Java configs)
_XML_ELEMENT = re.compile(r"(?P<name>[A-Za-z_][\w.-]*+)>(?P<qv>[^<>\r\n]{1,500}?)</(?P=name)>")


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
            start = m.start("name")
            if not literal and (
                (value.isidentifier() and _TYPE_CONTEXT.match(m.string, m.end()))
                or m.string[start - 1 : start] == ":"  # urn:x:oauth:token-type:jwt
            ):
                return m.group(0)
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


def _redact_assignments(text: str, low: str, hits: list[int], counts: Counter[str]) -> str:
    """Redact secret-named assignments and flags, anchored on the secret words in `low`.

    Trigger: every text with `key`, `token`, `pass`... in it (most code). Why: running the
    assignment pattern at every word costs ~100 µs/KB; anchoring it on the hint words found
    in the lowercased text, and finding each name's start in the reversed text, keeps it to a
    few match attempts. Outcome: the same matches as `_ASSIGN.sub` over the whole text.
    `hits` are `_hint_positions(low)`, found once for this and `_redact_prose`.
    """
    repl = _assignment_repl(counts)
    rev = text[::-1]
    size = len(text)
    out: list[str] = []
    pos = 0
    last_start = -1
    for hit in hits:
        back = _NAME_BACK.match(rev, size - hit)
        start = hit - (back.end() - back.start())  # type: ignore[union-attr]
        if start == last_start or start < pos:
            continue
        last_start = start
        m = _ASSIGN.match(text, start)
        if m is None and text.startswith("-", start):
            m = _FLAG.match(text, start)
        if m is None and text[start - 1 : start] == "<":
            m = _XML_ELEMENT.match(text, start)
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


# --- Secrets told in prose ---

# "my aws secret key is wJalr...", "the staging password is now Xk7...", "api key: sk...".
# Matched on the lowercased text at each secret noun: what the secret is for may follow
# ("password for prod"), then a linking word ("is", "was now", "set to") or a colon, never
# `=` (an assignment: _ASSIGN judges it as code).
_PROSE = re.compile(
    r"(?P<noun>key|token|secret|password|passphrase|passwd|credentials?)(?![\w-])"
    r"(?:[ \t]+(?:for|of|on)[ \t]+(?:the[ \t]+|my[ \t]+|our[ \t]+)?[\w.-]{1,40})?"
    r"(?:[ \t]+(?:is|was|are|were)(?:[ \t]+(?:now|still|just|actually|currently))?"
    r"(?:[ \t]+(?:set|changed)[ \t]+to)?|[ \t]+(?:set|changed)[ \t]+to|[ \t]*:)"
    r"[ \t]*:?[ \t]*[\"'`]?(?P<s>[a-z0-9+/=_.~!@#$%^&*-]{4,256})"
)
# Words that qualify a secret noun before it: "aws secret access key", "personal access token"
_PROSE_QUALIFIERS = _KEY_QUALIFIERS | {"aws", "bearer", "bot", "refresh", "session", "personal"}
_PROSE_BEFORE = re.compile(r"(?:[a-z]+[ \t]+){0,3}\Z")
_PROSE_TAIL = ".,;:!?*"  # sentence punctuation after the value is not part of it


def _prose_name(m: re.Match[str]) -> str:
    """The secret's name as the words before its noun qualify it: `aws_secret_key`."""
    before = _PROSE_BEFORE.search(m.string, max(0, m.start() - 48), m.start())
    kept: list[str] = []
    for word in reversed(before.group().split() if before else []):
        if word not in _PROSE_QUALIFIERS:
            break
        kept.insert(0, word)
    return "_".join([*kept, m.group("noun")])


def _redact_prose(text: str, low: str, hits: list[int], counts: Counter[str]) -> str:
    """Redact a secret told in a sentence: a secret noun (a qualified key, a token, a
    password...), a linking word, a value that mixes letters and digits (`secret_value` with
    `literal=False`, so a word, a path, an identifier or a placeholder stays: "the password
    is incorrect", "token: str"). Anchored on the hint words, like the assignments."""
    out: list[str] = []
    pos = 0
    for hit in hits:
        if hit < pos or (hit and (low[hit - 1].isalnum() or low[hit - 1] in "_.$-")):
            continue
        m = _PROSE.match(low, hit)
        if m is None:
            continue
        start, end = m.span("s")
        value = text[start:end].rstrip(_PROSE_TAIL)
        kind = secret_name_kind(_prose_name(m))
        if kind is None or not value or not secret_value(value, kind, literal=False):
            continue
        counts[kind] += 1
        out.append(text[pos:start])
        out.append(placeholder(kind))
        pos = start + len(value)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# --- Secrets inside base64 ---

_B64_ALPHABET = (string.ascii_letters + string.digits + "+/").encode()
_B64_FLAT = bytes(ord("a") if b in _B64_ALPHABET else ord(" ") for b in range(256))
_B64_MIN = 16  # 12 bytes decoded: `PASSWORD=abc` in base64
_B64_RUN = b"a" * _B64_MIN
_B64_MAX = 16384  # longer runs are images and archives, not a pasted secret
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"


def _decoded_secrets(run: str) -> Counter[str]:
    """The secrets in the text a base64 run decodes to; empty when it is not text.

    Cheap checks first: hashes, paths and words have one case only, and binary (images,
    certificates, lockfile hashes) fails the printable check right after decoding.
    """
    found: Counter[str] = Counter()
    body = run.replace("\n", "").rstrip("=")
    if len(body) > _B64_MAX or len(body) % 4 == 1 or body.islower() or body.isupper():
        return found
    try:
        data = binascii.a2b_base64(body + "=" * (-len(body) % 4))
    except binascii.Error:
        return found
    if not data.isascii() or data.translate(None, _PRINTABLE):
        return found
    _redact(data.decode("ascii"), found, decode=False)
    return found


def _b64_end(text: str, flat: bytes, at: int) -> int:
    """Where the base64 run starting at `at` ends, its `=` padding included."""
    end = flat.find(b" ", at)
    end = len(text) if end < 0 else end
    pad = end
    while pad < len(text) and text[pad] == "=" and pad - end < 2:
        pad += 1
    return pad


def _b64_wrapped(text: str, flat: bytes, at: int, end: int) -> int:
    """The end of a base64 block wrapped in lines of one width (`base64` wraps at 76).

    Trigger: a run that fills its line, followed by lines of the same width and a last one
    no longer. Why: decoded line by line, a secret cut in two is found in neither half.
    Outcome: the block is decoded, and redacted, as one run.
    """
    width = end - at
    if width < 40 or width % 4:
        return end
    while end + 1 < len(text) and end - at < _B64_MAX:
        start = end + 1
        stop = _b64_end(text, flat, start)
        if stop == start or not (stop == len(text) or text[stop] == "\n"):
            break  # the next line is not base64 alone
        if stop - start > width:
            break
        end = stop
        if stop - start < width:
            break  # the last line of the block
    return end


def _redact_base64(text: str, counts: Counter[str]) -> str:
    """Replace each base64 run whose decoded text holds a secret with one placeholder.

    Trigger: `echo c2stcHJv... | base64 -d`, a Kubernetes secret, a base64 `.env`. Why: the
    provider patterns cannot see through the encoding. Outcome: the whole run becomes
    `[REDACTED:base64_secret]`, counted under the kinds found inside. Runs are found in a
    translated byte copy (one `find` in C, about 1 µs/KB) rather than with a regex.
    """
    flat = text.encode("ascii", "replace").translate(_B64_FLAT)  # one byte per character
    at = flat.find(_B64_RUN)
    out: list[str] = []
    pos = 0
    while at >= 0:
        end = _b64_end(text, flat, at)
        if text.startswith("\n", end) and text.rfind("\n", 0, at) + 1 == at:
            end = _b64_wrapped(text, flat, at, end)
        found = _decoded_secrets(text[at:end])
        if found:
            counts.update(found)
            out.append(text[pos:at])
            out.append(placeholder("base64_secret"))
            pos = end
        at = flat.find(_B64_RUN, end)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# --- Public API ---


# What a text must hold for any step but the token runs and base64 to act on it: each rule's
# trigger (in the text, or in the lowercased text for rules matched there), the hint words
# of the prose and assignment scans, and the `<private` tag.
# A literal that holds a shorter one of the lowercased set is implied by it and left out
# (`password` by `pass`, `authorization` by `auth`): each one left is one search less.
_GATE_WORDS = {t for r in _RULES if not r.in_runs and r.on_lower for t in r.triggers} | {
    *_HINTS,
    "<private",
}
_GATE_LOWER = tuple(sorted(w for w in _GATE_WORDS if not any(o in w for o in _GATE_WORDS - {w})))
_GATE_EXACT = tuple(
    sorted(
        t
        for r in _RULES
        if not r.in_runs and not r.on_lower
        for t in r.triggers
        if not any(w in t.lower() for w in _GATE_LOWER)
    )
)


def _gated(text: str, low: str) -> bool:
    """Whether the text holds none of the gate literals (a loop of `in`: about 1 µs for a
    short text, where running the rules one by one costs several; plain loops, as `any`
    over a generator costs more than the searches)."""
    for literal in _GATE_LOWER:
        if literal in low:
            return False
    for literal in _GATE_EXACT:  # noqa: SIM110
        if literal in text:
            return False
    return True


def _redact(text: str, counts: Counter[str], *, decode: bool = True) -> str:
    low = _lower(text)
    flags = " -" in text or "\t-" in text
    if _gated(text, low):
        # Trigger: most texts (short tool results, prose, paths) hold no gate literal. Why:
        # every rule before the tokens would only test its triggers and return. Outcome: the
        # token runs; when they change nothing, base64 only (the other rules and the hint
        # scans have nothing to act on); else the rules after the tokens go on as always, as
        # a placeholder may hold a hint word.
        new = _redact_tokens(text, counts)
        if new is text:
            return _redact_base64(text, counts) if decode else text
        return _redact_rest(new, counts, decode, flags, _AFTER_TOKENS)
    if "<private" in low:
        text, _ = _cut_private(text, counts)
        flags = " -" in text or "\t-" in text
    return _redact_rest(text, counts, decode, flags, 0)


_AFTER_TOKENS = next(i for i, rule in enumerate(_RULES) if rule.in_runs) + 1


def _redact_rest(text: str, counts: Counter[str], decode: bool, flags: bool, start: int) -> str:
    """The rules from `_RULES[start]` on (past the first token rule: the tokens are done), the
    prose and assignment scans, then base64."""
    low = _lower(text)
    tokens_done = start > 0
    for rule in _RULES[start:] if start else _RULES:
        if rule.flag and not flags:
            continue
        if rule.in_runs:
            if tokens_done:
                continue
            new, tokens_done = _redact_tokens(text, counts), True
        else:
            new = _apply_rule(rule, text, low, counts)
        if new is not text:
            text = new
            low = _lower(text)
    hits = _hint_positions(low)
    if hits:
        # Prose first: it rarely changes anything, so the hints found once usually serve both.
        new = _redact_prose(text, low, hits, counts)
        if new is not text:
            text, low = new, _lower(new)
            hits = _hint_positions(low)
        text = _redact_assignments(text, low, hits, counts)
    if decode:
        text = _redact_base64(text, counts)
    return text


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """Return `text` with secrets replaced by typed placeholders, and a count per kind.

    Never keeps any character of a secret. Text without secrets comes back unchanged (the
    same string object), so callers can cheaply tell whether anything changed.
    """
    counts: Counter[str] = Counter()
    if not text:
        return text, counts
    return _redact(text, counts), counts


def secret_kinds(text: str) -> list[str]:
    """The kinds of secret `redact_text` finds in `text`, sorted; [] when there are none.

    For text that is kept as it is or refused, never rewritten: what the learner writes into
    skills, and skill files before they are synced. A `<private>` span is markup the user
    writes, not a secret (a skill may well document it), so it does not count.
    """
    if not text:
        return []
    counts = redact_text(text)[1]
    counts.pop("private", None)
    return sorted(counts)


_BINARY = re.compile(r"[A-Za-z0-9+/=_-]*")
_BINARY_KEYS = frozenset({"data", "signature"})  # base64 payloads and provider signatures


def _redact_str(value: str, counts: Counter[str]) -> str:
    if len(value) > 4096 and _BINARY.fullmatch(value):
        return value  # a base64 payload, not text: scanning it costs and finds nothing
    # `redact_text` and an update of `counts`, without a Counter per string
    return _redact(value, counts) if value else value


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
            new["content"] = _redact_parts(content, counts)
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


_SPAN_BLOCKS = ("text", "thinking")  # the blocks a <private> span is opened and closed in


def _part_type(part: Any) -> Any:
    return part.get("type") if isinstance(part, dict) else None


def _hidden(part: Any) -> Any:
    """What is left of a non-text block inside a <private> span: a tool call and its result
    keep their ids (the pair stays valid for the provider), their content goes; the rest is
    dropped (None)."""
    kind = _part_type(part)
    if kind == "tool-call":
        args = part.get("arguments")
        return {**part, "arguments": "{}" if isinstance(args, str) else {}}
    if kind == "tool-result":
        content = part.get("content")
        mark = [{"type": "text", "text": PRIVATE_MARK}] if isinstance(content, list) else None
        return {**part, "content": mark or PRIVATE_MARK}
    return None


def _redact_parts(parts: list[Any], counts: Counter[str]) -> list[Any]:
    """Redact a list of content blocks, with <private> spans that cross blocks.

    Trigger: `<private>` in one text block and `</private>` in a later one (or none). Why:
    each block redacted on its own would publish the blocks in between. Outcome: everything
    from the opening tag to the closing one is dropped across blocks, and an unclosed span
    drops the rest of the list.
    """
    out: list[Any] = []
    depth = 0
    for part in parts:
        text = part.get("text") if isinstance(part, dict) else None
        if _part_type(part) in _SPAN_BLOCKS and isinstance(text, str):
            inside = depth > 0
            # "<" first: most blocks have none, and lowercasing a long text costs a copy
            if inside or ("<" in text and "<private" in _lower(text)):
                text, depth = _cut_private(text, counts, depth)
                if inside and not text.strip():
                    continue  # wholly inside the span
                part = {**part, "text": text}
        elif depth:
            hidden = _hidden(part)
            if hidden is not None:
                out.append(hidden)
            continue
        out.append(_redact_part(part, counts))
    return out


def redact_value(value: Any) -> tuple[Any, Counter[str]]:
    """A redacted copy of any JSON-like value (event data, metadata), and the count per kind."""
    counts: Counter[str] = Counter()
    return _redact_value(value, counts), counts


def redact_message(message: _M) -> tuple[_M, Counter[str]]:
    """A redacted copy of an internal-form message, and the count per kind. The input is
    never mutated.

    Covers text and thinking, tool-call arguments (kept valid JSON), tool-result content,
    media URLs and file names, opaque parts' string leaves, and string values in `meta`.
    """
    counts: Counter[str] = Counter()
    out = dict(message)
    parts = message.get("parts")
    if isinstance(parts, list):
        out["parts"] = _redact_parts(parts, counts)
    if isinstance(message.get("meta"), dict):
        out["meta"] = _redact_value(message["meta"], counts)
    # The copy has the caller's keys, each value redacted in the same shape, so it is still
    # the caller's message type (a Message stays a Message).
    return out, counts  # type: ignore[return-value]  # the same keys and shapes

"""The redaction corpora: secrets that must vanish, and ordinary text that must survive.

`secrets.jsonl` holds templates, never secrets: each row is a kind, a channel, a text with
`{secret}` in it, and the secret's shape (`sk-proj-{u:156}`: a prefix and 156 random URL-safe
characters). Secrets are drawn here from a seeded generator, so the corpus is the same on
every run and the repository holds nothing a secret scanner would take for a real key. Each
row is also sent through the other places a secret reaches the store: tool-call arguments, a
tool result, and base64.

The false-positive corpus is ordinary file content found on any machine that runs the tests:
this project's own sources and docs, the Python standard library and the SDKs installed with
it (code full of `password`, `token` and `api_key`), their RECORD hash lists, public CA
certificates, plus generated lockfile, hash, UUID and SSH public key lines.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import string
import sysconfig
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acontext_mcp.privacy import redact as current
from acontext_mcp.privacy.redact import placeholder

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ROOT / "tests" / "fixtures" / "redaction" / "secrets.jsonl"

_ALPHABETS = {
    "a": string.ascii_letters + string.digits,
    "u": string.ascii_letters + string.digits + "_-",
    "h": "0123456789abcdef",
    "d": string.digits,
    "A": string.ascii_uppercase + string.digits,
    "L": string.ascii_letters,
    "b": string.ascii_letters + string.digits + "+/",
    "p": string.ascii_letters + string.digits + "!%^*",
    "s": "./" + string.ascii_letters + string.digits,
    "bech32": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
}
_WORDS = [
    "correct", "horse", "battery", "staple", "orbit", "lantern", "velvet", "quarry", "meadow",
    "copper", "tunnel", "falcon", "harbor", "pepper", "glacier", "walnut",
]  # fmt: skip
_GEN = re.compile(r"\{(a|u|h|d|A|L|b|p|s|bech32|words):(\d+)\}|\{(discord_id|jwt|basic)\}")


def _draw(rng: random.Random, alphabet: str, n: int) -> str:
    """n random characters; the first ones mix the alphabet's classes, as real keys do."""
    mix = "".join(c for c in "Qk7" if c in alphabet)[:n]
    return mix + "".join(rng.choice(alphabet) for _ in range(n - len(mix)))


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _expand(template: str, rng: random.Random) -> str:
    def gen(m: re.Match[str]) -> str:
        name, n, special = m.group(1), m.group(2), m.group(3)
        if name == "words":
            return " ".join(rng.choice(_WORDS) for _ in range(int(n)))
        if name:
            return _draw(rng, _ALPHABETS[name], int(n))
        if special == "discord_id":
            snowflake = str(rng.randrange(10**17, 10**18))
            return base64.b64encode(snowflake.encode()).decode().rstrip("=")
        if special == "jwt":
            head = _b64url({"alg": "HS256", "typ": "JWT"})
            body = _b64url({"sub": str(rng.randrange(10**9)), "name": "dev"})
            return f"{head}.{body}.{_draw(rng, _ALPHABETS['u'], 43)}"
        user_pass = f"admin:{_draw(rng, _ALPHABETS['a'], 16)}"
        return base64.b64encode(user_pass.encode()).decode()

    if template.startswith("{b64:") and template.endswith("}"):
        return base64.b64encode(_expand(template[5:-1], rng).encode()).decode()
    return _GEN.sub(gen, template)


def _fold(text: str, width: int) -> str:
    """Break every line longer than `width`, as a terminal or `fold -w` does."""
    out = []
    for line in text.split("\n"):
        out.extend(line[i : i + width] for i in range(0, max(len(line), 1), width))
    return "\n".join(out)


@dataclass(frozen=True)
class SecretCase:
    kind: str
    channel: str
    text: str
    secret: str

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.channel}"

    def redact(self, module: Any = current) -> tuple[str, dict[str, int]]:
        """The redacted text as the store keeps it for this channel, and the counts.

        `module` is `acontext_mcp.privacy.redact`, or an older copy of it (the bench)."""
        if self.channel.startswith("tool-call"):
            args = json.dumps({"command": self.text})
            message = {
                "role": "assistant",
                "parts": [{"type": "tool-call", "id": "c1", "name": "bash", "arguments": args}],
            }
            out, counts = module.redact_message(message)
            return json.loads(out["parts"][0]["arguments"])["command"], counts
        if self.channel.startswith("tool-result"):
            content = [{"type": "text", "text": self.text}]
            message = {
                "role": "tool",
                "parts": [{"type": "tool-result", "tool_call_id": "c1", "content": content}],
            }
            out, counts = module.redact_message(message)
            return out["parts"][0]["content"][0]["text"], counts
        return module.redact_text(self.text)

    def leaks(self, out: str) -> str | None:
        """The part of the secret still readable in `out`, or None."""
        secret = self.secret.replace("\\n", "\n")
        flat = out.replace("\n", "")
        if secret in out or secret.replace("\n", "") in flat:
            return secret
        if len(secret) < 16:
            return None
        size = 12
        for piece in secret.split("\n"):
            for i in range(0, max(len(piece) - size, 0) + 1, 4):
                window = piece[i : i + size]
                if len(window) == size and window in flat:
                    return window
        return None

    def caught(self, module: Any = current) -> tuple[bool, str]:
        """Whether the secret vanished under a placeholder of its kind; why not, if not."""
        out, counts = self.redact(module)
        leak = self.leaks(out)
        if leak is not None:
            return False, f"leaks {leak!r} in {out!r}"
        if self.kind not in counts and placeholder(self.kind) not in out:
            return False, f"caught as {dict(counts)}, not {self.kind}: {out!r}"
        return True, ""


def secret_cases(seed: int = 20261205) -> list[SecretCase]:
    """Every corpus row in its own channel, then in a tool call, a tool result and base64."""
    rng = random.Random(seed)
    cases: list[SecretCase] = []
    for line in SECRETS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        secret = _expand(row["secret"], rng)
        if row.get("wrap_secret"):
            secret = _fold(secret, row["wrap_secret"])  # `base64` wraps its output at 76
        text = row["text"].replace("{BEGIN}", "BEGIN").replace("{END}", "END")
        text = _expand(text.replace("{secret}", "\0"), rng).replace("\0", secret)
        if row.get("wrap"):
            text = _fold(text, row["wrap"])
        kind, channel = row["kind"], row["channel"]
        cases.append(SecretCase(kind, channel, text, secret))
        cases.append(SecretCase(kind, f"tool-call ({channel})", text, secret))
        cases.append(SecretCase(kind, f"tool-result ({channel})", text, secret))
        if channel != "base64":
            encoded = base64.b64encode(text.encode()).decode()
            cases.append(SecretCase(kind, f"base64 ({channel})", f"echo {encoded}", encoded))
    return cases


# --- False positives ---

_STDLIB = (
    "smtplib.py", "imaplib.py", "ftplib.py", "poplib.py", "netrc.py", "getpass.py",
    "hashlib.py", "hmac.py", "secrets.py", "ssl.py", "base64.py", "uuid.py", "urllib/request.py",
    "urllib/parse.py", "http/client.py", "http/cookiejar.py", "http/server.py",
    "logging/handlers.py", "email/utils.py", "email/_header_value_parser.py", "tarfile.py",
    "zipfile.py", "configparser.py", "argparse.py", "subprocess.py", "shutil.py",
    "xmlrpc/client.py", "json/decoder.py", "tokenize.py", "secrets.py", "crypt.py",
)  # fmt: skip
_SDKS = ("openai", "anthropic", "jwt", "httpx2", "mcp", "pydantic", "cryptography")


def _stdlib_files() -> Iterator[Path]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    for name in _STDLIB:
        if (lib / name).is_file():
            yield lib / name


def _sdk_files() -> Iterator[Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    for package in _SDKS:
        root = site / package
        if root.is_dir():
            yield from sorted(root.rglob("*.py"))
        yield from sorted(site.glob(f"{package}-*.dist-info/RECORD"))


def _project_files() -> Iterator[Path]:
    yield from sorted((ROOT / "acontext_mcp").rglob("*.py"))
    yield from sorted((ROOT / "docs").rglob("*.md"))
    yield ROOT / "README.md"
    yield ROOT / "pyproject.toml"


def _certificates() -> Iterator[Path]:
    certs = Path("/etc/ssl/certs")
    if certs.is_dir():
        yield from sorted(p for p in certs.glob("*.pem") if p.is_file())[:60]


def _generated(rng: random.Random) -> Iterator[str]:
    """Lockfile, hash, UUID and public key lines, as found in real repositories."""
    for i in range(1500):
        name = f"pkg-{i}"
        digest = hashlib.sha512(name.encode()).digest()
        sha1 = hashlib.sha1(name.encode()).hexdigest()
        sha256 = hashlib.sha256(name.encode()).hexdigest()
        yield f'    "node_modules/{name}": {{'
        yield f'      "version": "1.{i % 40}.{i % 7}",'
        yield f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.0.{i}.tgz",'
        yield f'      "integrity": "sha512-{base64.b64encode(digest).decode()}",'
        yield f'    "{name}": "^{i % 9}.0.0"  # {sha1}'
        yield f"{name}==1.0.{i} --hash=sha256:{sha256}"
        yield f"github.com/org/{name} v1.0.{i} h1:{base64.b64encode(digest[:32]).decode()}"
        yield f'checksum = "{sha256}"'
        yield f"commit {sha1}  request_id={uuid.UUID(int=rng.getrandbits(128))}"
        key = base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0 " + digest[:32]).decode()
        yield f"ssh-ed25519 {key} dev{i}@laptop"
        yield f"{sha256}  dist/{name}-1.0.{i}.tar.gz"


def near_misses(seed: int = 11) -> list[str]:
    """Prose and config lines that look like a secret told in a sentence but hold none:
    hashes, UUIDs, base64 of ordinary text, words, paths, counts and variable names after
    a secret word. Each must come through redaction unchanged."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(40):
        name = f"release-{i}"
        sha1 = hashlib.sha1(name.encode()).hexdigest()
        sha256 = hashlib.sha256(name.encode()).hexdigest()
        uid = uuid.UUID(int=rng.getrandbits(128))
        plain = base64.b64encode(f"hello from build {i}, all good".encode()).decode()
        out += [
            f"the commit is {sha1} and the tag is v1.{i}.0",
            f"The key is {uid}: the row's primary key, not a credential.",
            f"the request id is {uid}; the checksum is sha256:{sha256}",
            f"the cache key is {sha256[:40]}",
            f"sort key: created_at_{i}",
            f"the token count is {1000 + i} and the key count is {i}",
            f"the password is incorrect (attempt {i} of 5)",
            f"the api key is read from $OPENAI_API_KEY on run {i}",
            f"the secret is stored in ~/.config/app/secret-{i}.txt",
            f"The access token is valid for {3600 + i} seconds.",
            f"the password field is named pwd_{i} in the form",
            f"token: Optional[str] = None  # {i}",
            f"echo {plain} | base64 -d",
            f"the secret key is rotated every {30 + i} days by vault",
            f"password: ${{DB_PASSWORD_{i}}}",
            f"the deploy key is at ~/.ssh/deploy_{i}.pub",
        ]
    return out


def false_positive_sources(
    max_lines: int | None = None, seed: int = 7
) -> Iterator[tuple[str, str]]:
    """(source, text) pairs of ordinary content, in a fixed order, files up to `max_lines`."""
    lines = 0
    for path in [*_project_files(), *_stdlib_files(), *_certificates(), *_sdk_files()]:
        if max_lines is not None and lines >= max_lines:
            break
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines += text.count("\n") + 1
        yield str(path), text
    yield "generated lockfiles, hashes, UUIDs, ssh keys", "\n".join(_generated(random.Random(seed)))
    yield "near misses of secrets told in prose", "\n".join(near_misses())


def false_positive_lines(
    sources: Iterator[tuple[str, str]], module: Any = current
) -> tuple[int, list[str]]:
    """How many lines the corpus has, and each line redaction changed (`source:line: text`).

    Texts are redacted whole, as a tool result would be, then compared line by line.
    `<private>` spans do not count: they are markup the user writes, not a guess (this very
    module's docs mention them).
    """
    total = 0
    hits: list[str] = []
    for source, text in sources:
        lines = text.split("\n")
        total += len(lines)
        counts = module.redact_text(text)[1]
        counts.pop("private", None)
        if not counts:
            continue
        found = [
            f"{source}:{number}: {line.strip()[:160]}"
            for number, line in enumerate(lines, 1)
            if set(module.redact_text(line)[1]) - {"private"}
        ]
        hits.extend(found or [f"{source}: (across lines) {sorted(counts)}"])
    return total, hits

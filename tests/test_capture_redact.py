"""Secret redaction: each provider's token, private blocks, message places, and no false alarms.

Fake secrets are assembled at run time from pieces and seeded randomness, so this file never
holds a string that a secret scanner would flag as a real key.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
import string
import uuid
from collections import Counter

import pytest

from acontext_mcp.privacy.redact import (
    PRIVATE_MARK,
    placeholder,
    redact_message,
    redact_text,
    secret_name_kind,
)

_RNG = random.Random(20260901)
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"


def rand(n: int, alphabet: str = ALNUM) -> str:
    """A random string that mixes upper case, lower case and digits where the alphabet allows."""
    mix = "".join(c for c in "Qk7" if c in alphabet)
    return mix + "".join(_RNG.choice(alphabet) for _ in range(n - len(mix)))


def upper_digits(n: int) -> str:
    return "".join(_RNG.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def pem(kind: str = "RSA ", escaped: bool = False) -> str:
    nl = "\\n" if escaped else "\n"
    label = kind + "PRIVATE" + " KEY"
    lines = [rand(64, ALNUM + "+/") for _ in range(4)]
    return f"-----BEGIN {label}-----{nl}" + nl.join(lines) + f"{nl}-----END {label}-----"


JWT = (
    b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + b64url({"sub": "1234567890", "name": "dev"})
    + "."
    + rand(43, URLSAFE)
)
SK_LEGACY = "sk" + "-" + rand(48)
SK_PROJ = "sk" + "-proj-" + rand(156, URLSAFE)
SK_ANT = "sk" + "-ant-api03-" + rand(93, URLSAFE) + "AA"
GHP = "gh" + "p_" + rand(36)
GHO = "gh" + "o_" + rand(36)
GHS = "gh" + "s_" + rand(36)
GH_PAT = "github" + "_pat_" + rand(22) + "_" + rand(59)
GLPAT = "gl" + "pat-" + rand(20, URLSAFE)
SLACK = (
    "xo" + "xb-" + str(_RNG.randrange(10**11)) + "-" + str(_RNG.randrange(10**12)) + "-" + rand(24)
)
STRIPE = "sk" + "_live_" + rand(24)
STRIPE_RK = "rk" + "_live_" + rand(24)
GOOGLE = "AI" + "za" + rand(35, URLSAFE)
AWS_ID = "AK" + "IA" + upper_digits(16)
AWS_SECRET = rand(40, ALNUM + "+/")
NPM = "np" + "m_" + rand(36)
HF = "h" + "f_" + rand(34, string.ascii_letters)
PASSWORD = rand(14, ALNUM + "!#%")
BEARER = rand(40)
BASIC = rand(28, ALNUM + "+/") + "="


# (id, text, the secret that must vanish, kind)
CASES: list[tuple[str, str, str, str]] = [
    ("openai legacy", f"export OPENAI_API_KEY={SK_LEGACY}", SK_LEGACY, "openai_key"),
    ("openai project", f'client = OpenAI(api_key="{SK_PROJ}")', SK_PROJ, "openai_key"),
    ("anthropic", f"ANTHROPIC_API_KEY={SK_ANT} claude -p hi", SK_ANT, "anthropic_key"),
    ("github classic", f"git clone https://{GHP}@github.com/org/repo.git", GHP, "github_token"),
    ("github oauth", f"GH_TOKEN={GHO}", GHO, "github_token"),
    ("github app", f"token: {GHS}", GHS, "github_token"),
    ("github fine-grained", f'"token": "{GH_PAT}"', GH_PAT, "github_token"),
    ("gitlab", f"curl --header 'PRIVATE-TOKEN: {GLPAT}' https://gitlab.com", GLPAT, "gitlab_token"),
    ("slack", f"SLACK_BOT_TOKEN={SLACK}", SLACK, "slack_token"),
    ("stripe secret", f"stripe.api_key = '{STRIPE}'", STRIPE, "stripe_key"),
    ("stripe restricted", f"key {STRIPE_RK} rotated", STRIPE_RK, "stripe_key"),
    (
        "google api key",
        f"https://maps.googleapis.com/maps/api?key={GOOGLE}",
        GOOGLE,
        "google_api_key",
    ),
    ("aws access key id", f"aws_access_key_id = {AWS_ID}", AWS_ID, "aws_access_key_id"),
    ("aws secret ini", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws_secret_key"),
    ("aws secret env", f'AWS_SECRET_ACCESS_KEY="{AWS_SECRET}"', AWS_SECRET, "aws_secret_key"),
    ("rsa block", f"cat id_rsa\n{pem()}\n$ ", pem().split("\n")[1], "private_key"),
    ("openssh block", f"{pem('OPENSSH ')}", "OPENSSH PRIVATE", "private_key"),
    ("jwt", f"cookie session={JWT}; Path=/", JWT, "jwt"),
    ("bearer header", f'curl -H "Authorization: Bearer {BEARER}"', BEARER, "auth_header"),
    ("basic header", f"Authorization: Basic {BASIC}", BASIC, "auth_header"),
    (
        "url password",
        f"DATABASE_URL=postgres://app:{PASSWORD}@db:5432/app",
        PASSWORD,
        "url_password",
    ),
    ("npm", f"//registry.npmjs.org/:_authToken={NPM}", NPM, "npm_token"),
    ("hugging face", f"huggingface-cli login --token {HF}", HF, "huggingface_token"),
    ("env password", f"export DB_PASSWORD={PASSWORD}", PASSWORD, "password"),
    ("dotenv password", f"PGPASSWORD={PASSWORD} psql -h db", PASSWORD, "password"),
    ("yaml password", f"db:\n  password: {PASSWORD}\n  port: 5432", PASSWORD, "password"),
    ("kwarg password", f'connect(host="db", password="{PASSWORD}")', PASSWORD, "password"),
    ("typed password", f'password: str = "{PASSWORD}"', PASSWORD, "password"),
    ("flag password", f"mysql -u root --password={PASSWORD} app", PASSWORD, "password"),
    ("json secret", f'{{"client_id": "abc", "client_secret": "{PASSWORD}"}}', PASSWORD, "secret"),
    ("escaped json", f'{{\\"client_secret\\": \\"{PASSWORD}\\"}}', PASSWORD, "secret"),
    ("php array", f"'password' => '{PASSWORD}',", PASSWORD, "password"),
    ("flag token", f"deploy --auth-token {PASSWORD}", PASSWORD, "token"),
    ("camel api key", f'const apiKey = "{PASSWORD}";', PASSWORD, "api_key"),
    ("header api key", f"X-API-Key: {PASSWORD}", PASSWORD, "api_key"),
    (
        "azure account key",
        f"AccountName=x;AccountKey={AWS_SECRET}==;Suffix=y",
        AWS_SECRET,
        "secret_key",
    ),
    ("query token", f"GET /hook?access_token={PASSWORD}&page=2", PASSWORD, "token"),
    ("credentials", f"REGISTRY_CREDENTIALS={PASSWORD}", PASSWORD, "credential"),
    # Any env variable's _KEY with a generated value (found by bench/efficacy's canaries)
    ("env feed key", "RATES_FEED_KEY=ACONTEXT_CANARY_workdir_3f9a2b7c11d0e4aa", "3f9a2b7c", "key"),
]


class TestEachSecretKind:
    @pytest.mark.parametrize(
        ("text", "secret", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
    )
    def test_secret_is_replaced_by_its_typed_placeholder_once(
        self, text: str, secret: str, kind: str
    ):
        out, counts = redact_text(text)
        assert secret not in out
        assert placeholder(kind) in out
        assert counts == Counter({kind: 1})

    def test_no_piece_of_the_secret_survives(self):
        out, _ = redact_text(f"key={SK_PROJ}")
        assert out == "key=[REDACTED:openai_key]"
        for i in range(0, len(SK_PROJ) - 8, 8):
            assert SK_PROJ[i : i + 8] not in out

    def test_context_around_the_secret_is_kept(self):
        out, _ = redact_text(f"DATABASE_URL=postgres://app:{PASSWORD}@db:5432/app # prod")
        assert out == "DATABASE_URL=postgres://app:[REDACTED:url_password]@db:5432/app # prod"
        out, _ = redact_text(f"export DB_PASSWORD={PASSWORD} && ./run.sh")
        assert out == "export DB_PASSWORD=[REDACTED:password] && ./run.sh"

    def test_counts_add_up_over_several_secrets(self):
        text = f"{GHP}\n{GHO}\nOPENAI_API_KEY={SK_LEGACY}\n{JWT}\nDB_PASSWORD={PASSWORD}"
        out, counts = redact_text(text)
        assert counts == Counter(github_token=2, openai_key=1, jwt=1, password=1)
        assert out.count("[REDACTED:") == 5

    def test_service_account_json_stays_valid_json(self):
        account = {
            "type": "service_account",
            "private_key_id": hashlib.sha1(b"k").hexdigest(),
            "private_key": pem("", escaped=False) + "\n",
            "client_email": "bot@proj.iam.gserviceaccount.com",
        }
        out, counts = redact_text(json.dumps(account, indent=2))
        parsed = json.loads(out)
        assert parsed["private_key"] == "[REDACTED:private_key]\n"
        assert parsed["private_key_id"] == "[REDACTED:private_key_id]"  # names the key
        assert parsed["client_email"] == account["client_email"]
        assert counts == Counter(private_key=1, private_key_id=1)

    def test_an_unclosed_private_key_block_is_redacted_to_its_last_key_line(self):
        block = pem().rsplit("\n", 1)[0]  # the END line was cut off
        out, counts = redact_text(f"{block}\n$ echo done")
        assert counts == Counter(private_key=1)
        assert "\n$ echo done" in out and block.split("\n")[2] not in out


class TestPrivateSpans:
    @pytest.mark.parametrize(
        ("text", "expected", "count"),
        [
            ("a <private>secret</private> b", "a [private] b", 1),
            ("a <PRIVATE>x\ny\nz</Private> b", "a [private] b", 1),
            ("<private>1</private>-<private>2</private>", "[private]-[private]", 2),
            ("a <private>x <private>y</private> z</private> b", "a [private] b", 1),
            ("keep <private>dropped to the end\nof the text", "keep [private]", 1),
            ("a </private> b", "a </private> b", 0),
            ('a <private reason="ssn">123</private> b', "a [private] b", 1),
            ("x < private > y", "x < private > y", 0),
        ],
    )
    def test_private_spans_are_dropped(self, text: str, expected: str, count: int):
        out, counts = redact_text(text)
        assert out == expected
        assert counts["private"] == count

    def test_a_secret_inside_a_private_span_is_counted_as_private_only(self):
        out, counts = redact_text(f"<private>{GHP}</private>")
        assert out == PRIVATE_MARK
        assert counts == Counter(private=1)


def _message() -> dict:
    return {
        "role": "assistant",
        "parts": [
            {"type": "thinking", "text": f"the key is {SK_LEGACY}", "signature": "c2lnbmF0dXJl"},
            {"type": "text", "text": f"Set DB_PASSWORD={PASSWORD}", "meta": {"note": GHP}},
            {
                "type": "tool-call",
                "id": "call_1",
                "name": "bash",
                "arguments": json.dumps(
                    {"command": f"export GITHUB_TOKEN={GHO}", "env": {"API_KEY": PASSWORD}}
                ),
            },
            {
                "type": "tool-result",
                "tool_call_id": "call_1",
                "content": [
                    {"type": "text", "text": f"token={JWT}"},
                    {
                        "type": "image",
                        "source": {"kind": "base64", "data": "aGk=", "media_type": "image/png"},
                    },
                ],
            },
            {
                "type": "image",
                "source": {"kind": "url", "url": f"https://u:{PASSWORD}@img.example.com/a.png"},
            },
            {"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"},
            {
                "type": "opaque",
                "source_format": "anthropic",
                "value": {"type": "server_tool_use", "input": {"q": f"{NPM}", "n": 3}},
            },
        ],
        "meta": {"original_role": "assistant", "headers": {"authorization": f"Bearer {rand(32)}"}},
    }


class TestRedactMessage:
    def test_every_text_bearing_place_is_redacted(self):
        out, counts = redact_message(_message())
        dumped = json.dumps(out)
        for secret in (SK_LEGACY, PASSWORD, GHP, GHO, JWT, NPM):
            assert secret not in dumped
        assert counts == Counter(
            openai_key=1,
            password=1,
            github_token=2,
            api_key=1,
            jwt=1,
            url_password=1,
            npm_token=1,
            auth_header=1,
        )

    def test_tool_call_arguments_stay_valid_json(self):
        out, _ = redact_message(_message())
        args = json.loads(out["parts"][2]["arguments"])
        assert args == {
            "command": "export GITHUB_TOKEN=[REDACTED:github_token]",
            "env": {"API_KEY": "[REDACTED:api_key]"},
        }

    def test_arguments_without_secrets_are_kept_byte_for_byte(self):
        raw = '{"path":"src/a.py",   "content": "x = 1\\n"}'
        message = {
            "role": "assistant",
            "parts": [{"type": "tool-call", "id": "c", "name": "w", "arguments": raw}],
        }
        out, counts = redact_message(message)
        assert out["parts"][0]["arguments"] == raw
        assert not counts

    def test_arguments_that_are_not_json_are_redacted_as_text(self):
        raw = f'{{"command": "export GH_TOKEN={GHP}"'  # truncated JSON
        message = {
            "role": "assistant",
            "parts": [{"type": "tool-call", "id": "c", "name": "w", "arguments": raw}],
        }
        out, counts = redact_message(message)
        expected = '{"command": "export GH_TOKEN=[REDACTED:github_token]"'
        assert out["parts"][0]["arguments"] == expected
        assert counts == Counter(github_token=1)

    def test_binary_payloads_and_signatures_are_untouched(self):
        out, _ = redact_message(_message())
        assert out["parts"][0]["signature"] == "c2lnbmF0dXJl"
        assert out["parts"][3]["content"][1]["source"]["data"] == "aGk="
        assert out["parts"][5] == {"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"}
        assert out["meta"]["original_role"] == "assistant"

    def test_the_input_message_is_not_mutated(self):
        message = _message()
        before = copy.deepcopy(message)
        out, _ = redact_message(message)
        assert message == before
        assert out != message

    def test_a_message_without_secrets_comes_back_equal(self):
        message = {
            "role": "user",
            "parts": [{"type": "text", "text": "Please rename the tokenizer module."}],
            "meta": {"original_role": "system"},
        }
        out, counts = redact_message(message)
        assert out == message
        assert not counts


def _false_positive_corpus() -> list[str]:
    sha256 = hashlib.sha256(b"acontext").hexdigest()
    sha1 = hashlib.sha1(b"acontext").hexdigest()
    ident = str(uuid.UUID(int=_RNG.getrandbits(128)))
    image = base64.b64encode(bytes(_RNG.getrandbits(8) for _ in range(600))).decode()
    pem_header = "-----BEGIN " + "RSA PRIVATE" + " KEY-----"
    return [
        # Python that handles credentials
        'password = request.form["password"]',
        "if not check_password_hash(user.password_hash, password):\n    abort(401)",
        'token = request.headers.get("Authorization", "").removeprefix("Bearer ")',
        "self.password = password\nuser.set_password(new_password)",
        "def authenticate(username: str, password: str) -> bool:",
        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
        'AUTH_USER_MODEL = "accounts.User"',
        "AUTH_PASSWORD_VALIDATORS = [\n    {'NAME': 'auth.password_validation.X'},\n]",
        "api_key = os.getenv('OPENAI_API_KEY')\nclient = OpenAI(api_key=api_key)",
        "if password == confirm_password:\n    save()",
        "password: str = Field(..., min_length=8)",
        'token_type = "bearer"\nexpires_in = 3600',
        "tokenizer.pad_token = tokenizer.eos_token\nmodel.config.pad_token_id = 0",
        "response = client.messages.create(model=model, max_tokens=4096, messages=msgs)",
        '{"usage": {"input_tokens": 1523, "output_tokens": 412, "cache_creation_input_tokens": 0}}',
        "cache_key = f\"user:{user_id}:profile\"\nsort_key = 'created_at'",
        "id = Column(Integer, primary_key=True)\nforeign_key = ForeignKey('users.id')",
        '{"key": "Enter", "code": "Enter", "keyCode": 13}',
        "keyboard_layout = 'qwerty'\nmonkey = 3\nauthor = 'Jane Doe'",
        'password_field = "password"\nSECRET_NAME = "prod/db/main"',
        # JavaScript / TypeScript
        "const apiKey = process.env.OPENAI_API_KEY;",
        "headers: { Authorization: `Bearer ${token}` },",
        "const { token } = await res.json();\nlocalStorage.setItem('token', token);",
        "const client = new Client({ apiKey: apiKey, token: accessToken });",
        "interface Login {\n  password: string;\n  apiKey?: string\n}",
        "const secret = crypto.randomBytes(32).toString('hex');",
        # YAML / config with placeholders
        "db:\n  password: ${DB_PASSWORD}\n  user: app",
        'openai:\n  api_key: "<your-api-key>"',
        "auth: true\ntoken: changeme\nsecret: xxxxxxxx",
        "POSTGRES_PASSWORD_FILE: /run/secrets/db_password",
        "api_key: YOUR_API_KEY_HERE",
        # shell
        'export GITHUB_TOKEN=$(gh auth token)\necho "$API_KEY" | wc -c',
        "PWD=/home/dev/project\nOLDPWD=/tmp\nHOME=/home/dev",
        "read -s PASSWORD\nssh-keygen -t ed25519 -f ~/.ssh/id_ed25519",
        "docker run --env-file .env -e API_KEY app",
        "gh auth login --with-token < token.txt",
        "curl -H 'Authorization: Bearer $TOKEN' https://api.example.com",
        "Authorization: Bearer <token>",
        # identifiers, hashes, paths, URLs
        f"commit {sha1}\nAuthor: Dev <dev@example.com>",
        f"sha256:{sha256}  dist/acontext_mcp-0.1.0.tar.gz",
        f"request_id={ident} session={ident}",
        f"checksum = {sha256}\nlong hex {sha256}{sha1}",
        "/home/dev/.config/acontext/keys/token_cache.json",
        "git@github.com:org/repo.git and https://github.com/org/repo/pull/12",
        "http://localhost:8000/api/items?page=2&sort=name#top",
        "postgres://localhost:5432/app",
        f"Here is the logo: data:image/png;base64,{image} (inline)",
        f'if line.startswith("{pem_header}"):',
        # prose
        "The password field must not be empty, and the token expires in an hour.",
        "Set your API key in the environment before running the tests.",
        "Token: the one from the settings page, not the old one.",
        "Bearer tokens expire after an hour; refresh them with the refresh token.",
        "We use an sk-learn-compatible estimator here.",
        "| token | string | required |\n|---|---|---|",
        "2026-01-05T10:00:00Z INFO auth: login ok user=alice",
        "Passwords are hashed with argon2id; keys rotate monthly.",
    ]


FALSE_POSITIVES = _false_positive_corpus()


class TestNoFalsePositives:
    @pytest.mark.parametrize("text", FALSE_POSITIVES, ids=range(len(FALSE_POSITIVES)))
    def test_ordinary_text_comes_through_unchanged(self, text: str):
        out, counts = redact_text(text)
        assert out == text
        assert not counts

    def test_the_whole_corpus_at_once_is_unchanged(self):
        text = "\n\n".join(FALSE_POSITIVES)
        assert redact_text(text) == (text, Counter())


class TestNames:
    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("DB_PASSWORD", "password"),
            ("PGPASSWORD", "password"),
            ("smtp_pass", "password"),
            ("apiKey", "api_key"),
            ("x-api-key", "api_key"),
            ("--auth-token", "token"),
            ("SECRET_KEY_BASE", "secret_key"),
            ("aws_secret_access_key", "aws_secret_key"),
            ("client_secret", "secret"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "credential"),
            ("_auth", "auth"),
            ("PWD", None),
            ("password_field", None),
            ("token_count", None),
            ("max_tokens", None),
            ("tokenizer", None),
            ("primary_key", None),
            ("PRIMARY_KEY", "key"),  # an env variable: its value decides (test below)
            ("ROSTER_EXPORT_KEY", "key"),
            ("key", None),
            ("author", None),
            ("POSTGRES_PASSWORD_FILE", None),
        ],
    )
    def test_secret_names_are_recognised_by_their_last_segment(self, name: str, kind: str | None):
        assert secret_name_kind(name) == kind


def _fold(text: str, width: int) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _pgp_block() -> tuple[str, list[str]]:
    label = "PGP PRIVATE" + " KEY BLOCK"
    body = ["lQdGBG" + rand(58, ALNUM + "+/"), rand(64, ALNUM + "+/"), rand(40, ALNUM + "+/")]
    block = (
        f"-----BEGIN {label}-----\nVersion: GnuPG v2.4.5 (GNU/Linux)\n"
        "Comment: Alice <alice@example.com>\n\n"
        + "\n".join(body)
        + f"\n=Ab3x\n-----END {label}-----"
    )
    return block, body


class TestAttackRunMisses:
    """What the attack run of issue 10 (item 5) got past redaction, one test per hole."""

    def test_a_key_wrapped_over_several_lines_vanishes_whole(self):
        text = _fold(f"export OPENAI_API_KEY={SK_PROJ}", 80) + "\n$ python app.py"
        out, counts = redact_text(text)
        assert out == "export OPENAI_API_KEY=[REDACTED:openai_key]\n$ python app.py"
        assert counts == Counter(openai_key=1)

    def test_keys_one_per_line_are_not_taken_for_a_wrapped_key(self):
        out, counts = redact_text(f"{SK_PROJ}\n{SK_LEGACY}\ndone")
        assert out == "[REDACTED:openai_key]\n[REDACTED:openai_key]\ndone"
        assert counts == Counter(openai_key=2)

    def test_a_word_on_the_line_after_a_long_line_is_not_taken_for_a_wrapped_key(self):
        text = f"{'log line ' * 6}token {GHP}\nTraceback (most recent call last):\nREADME done"
        out, counts = redact_text(text)
        assert out == text.replace(GHP, "[REDACTED:github_token]")
        assert counts == Counter(github_token=1)

    def test_a_pgp_private_key_block_vanishes_with_its_armor_headers(self):
        block, body = _pgp_block()
        out, counts = redact_text(f"$ gpg --export-secret-keys -a me\n{block}\n$ echo ok")
        assert out == "$ gpg --export-secret-keys -a me\n[REDACTED:private_key]\n$ echo ok"
        assert not any(line in out for line in body)
        assert counts == Counter(private_key=1)

    @pytest.mark.parametrize(
        ("command", "kind"),
        [
            ("curl -u admin:{pw} https://jenkins/api/json", "password"),
            ("curl -sS --user 'deploy:{pw}' https://nexus/repo", "password"),
            ("mysql -h db -u root -p{pw} app", "password"),
            ("mysqldump -uroot -p'{pw}' --all-databases > all.sql", "password"),
            ("docker login -u deploy -p {pw} registry.example.com", "password"),
            ("echo {pw} | docker login ghcr.io -u me --password-stdin", "password"),
            ("sshpass -p '{pw}' ssh root@10.0.0.5", "password"),
            ("redis-cli -h cache -a {pw} ping", "password"),
            ("openssl pkcs12 -in c.p12 -passin pass:{pw} -nodes", "password"),
            ("htpasswd -bc .htpasswd admin {pw}", "password"),
        ],
    )
    def test_passwords_on_command_lines_vanish(self, command: str, kind: str):
        out, counts = redact_text(command.format(pw=PASSWORD))
        assert PASSWORD not in out
        assert out == command.format(pw=placeholder(kind))
        assert counts == Counter({kind: 1})

    def test_command_line_flags_of_other_programs_are_kept(self):
        text = "docker run -p 8080:80 -u 1000:1000 app\nssh -p 2222 host\n"
        text += "curl -o out.html https://x\nAfter login, run ssh -p 2222 deploy@host"
        assert redact_text(text) == (text, Counter())

    def test_netrc_entries_on_one_line_or_several_vanish(self):
        text = f"machine api.heroku.com login me@x.com password {PASSWORD}\n"
        text += f"machine github.com\n  login octocat\n  password {PASSWORD}x\n"
        out, counts = redact_text(text)
        assert PASSWORD not in out and counts == Counter(password=2)
        assert "login octocat\n  password [REDACTED:password]" in out

    def test_prose_about_a_default_password_is_kept(self):
        text = '"""Set default password for encrypted files."""\nThe password field is required.'
        assert redact_text(text) == (text, Counter())

    def test_htpasswd_and_shadow_hashes_vanish(self):
        apr1 = "$apr1$" + rand(8, ALNUM) + "$" + rand(22, ALNUM + "./")
        bcrypt = "$2y$10$" + rand(53, ALNUM + "./")
        sha = "{SHA}" + rand(27, ALNUM + "+/") + "="
        out, counts = redact_text(f"admin:{apr1}\ndeploy:{bcrypt}\nops:{sha}")
        assert out == "admin:[REDACTED:password_hash]\ndeploy:[REDACTED:password_hash]\n" + (
            "ops:[REDACTED:password_hash]"
        )
        assert counts == Counter(password_hash=3)

    @pytest.mark.parametrize(
        "text",
        [
            'GPG_PASSPHRASE="correct horse battery staple"',
            '{"passphrase": "correct horse battery staple"}',
            'restic init --password "correct horse battery staple"',
        ],
    )
    def test_quoted_passphrases_with_spaces_vanish(self, text: str):
        out, counts = redact_text(text)
        assert "horse" not in out and counts == Counter(password=1)

    def test_a_passphrase_with_spaces_inside_json_arguments_vanishes(self):
        args = json.dumps({"env": {"PASSPHRASE": "correct horse battery staple"}})
        message = {"role": "assistant", "parts": [{"type": "tool-call", "arguments": args}]}
        out, counts = redact_message(message)
        assert "horse" not in out["parts"][0]["arguments"] and counts == Counter(password=1)

    @pytest.mark.parametrize(
        "text",
        [
            'label = "Enter your password"',
            '{"password": "Password must be at least 8 characters."}',
            "ExtendedKeyUsageOID.SERVER_AUTH: 'serverAuth'",
            'ENV_API_KEY = "ANTHROPIC_API_KEY"',
            "def sign(private_key: Ed25519PrivateKey | None, data: bytes) -> bytes:",
            'authorization = request.headers.get("Authorization")',
            "SERVER_AUTH = '1.3.6.1.5.5.7.3.1'",
            '_TOKEN_TYPE = "urn:openai:params:oauth:token-type:x509"',
            "passwords on command lines (`curl -u`, `mysql -p`, `sshpass -p`, `redis-cli -a`)",
        ],
    )
    def test_code_and_labels_around_secrets_are_kept(self, text: str):
        assert redact_text(text) == (text, Counter())

    @pytest.mark.parametrize("value", ["root", "pw12", "1234"])
    def test_short_passwords_in_assignments_vanish(self, value: str):
        for text in (f"DB_PASSWORD={value}", f'{{"password": "{value}"}}', f"smtp_pass: '{value}'"):
            out, counts = redact_text(text)
            assert value not in out and counts == Counter(password=1), text

    @pytest.mark.parametrize(
        "inner",
        [
            f"OPENAI_API_KEY={SK_PROJ}",
            f"me:{GHP}",
            f"DB_PASSWORD={PASSWORD}\nDEBUG=0\n",
        ],
    )
    def test_a_secret_inside_base64_vanishes_with_the_whole_run(self, inner: str):
        encoded = base64.b64encode(inner.encode()).decode()
        out, counts = redact_text(f"echo {encoded} | base64 -d > .env")
        assert out == "echo [REDACTED:base64_secret] | base64 -d > .env"
        assert counts and "private" not in counts

    def test_a_secret_in_base64_wrapped_at_76_columns_vanishes(self):
        encoded = base64.b64encode(f"OPENAI_API_KEY={SK_PROJ}\nDEBUG=0\n".encode()).decode()
        block = _fold(encoded, 76)  # what `base64 .env` prints
        out, counts = redact_text(f"$ base64 .env\n{block}\n$ echo done")
        assert out == "$ base64 .env\n[REDACTED:base64_secret]\n$ echo done"
        assert counts == Counter(openai_key=1)

    def test_base64_of_ordinary_text_or_binary_is_kept(self):
        text = " ".join(
            [
                base64.b64encode(b"just a config file with no secrets in it\n").decode(),
                base64.b64encode(hashlib.sha512(b"x").digest()).decode(),
                base64.b64encode(bytes(range(200))).decode(),
            ]
        )
        assert redact_text(text) == (text, Counter())


class TestPrivateSpansAcrossBlocks:
    def test_a_span_closed_in_a_later_block_drops_the_blocks_in_between(self):
        message = {
            "role": "assistant",
            "parts": [
                {"type": "text", "text": "before <private>hidden one"},
                {"type": "text", "text": "hidden two"},
                {"type": "tool-call", "id": "c1", "name": "bash", "arguments": '{"cmd": "cat x"}'},
                {"type": "tool-result", "tool_call_id": "c1", "content": "hidden result"},
                {"type": "image", "source": {"kind": "url", "url": "https://x/hidden.png"}},
                {"type": "thinking", "text": "hidden three</private> after"},
                {"type": "text", "text": "still here"},
            ],
        }
        out, counts = redact_message(message)
        assert "hidden" not in json.dumps(out)
        assert out["parts"] == [
            {"type": "text", "text": "before [private]"},
            {"type": "tool-call", "id": "c1", "name": "bash", "arguments": "{}"},
            {"type": "tool-result", "tool_call_id": "c1", "content": PRIVATE_MARK},
            {"type": "thinking", "text": " after"},
            {"type": "text", "text": "still here"},
        ]
        assert counts == Counter(private=1)

    def test_an_unclosed_span_drops_the_rest_of_the_message(self):
        message = {
            "role": "user",
            "parts": [
                {"type": "text", "text": "keep <private>drop"},
                {"type": "text", "text": f"drop {GHP}"},
                {"type": "text", "text": "</private"},  # not a closing tag
            ],
        }
        out, counts = redact_message(message)
        assert out["parts"] == [{"type": "text", "text": "keep [private]"}]
        assert counts == Counter(private=1)

    def test_a_span_across_the_text_items_of_a_tool_result(self):
        items = [
            {"type": "text", "text": "a <private>x"},
            {"type": "text", "text": "y</private> b"},
        ]
        message = {"role": "tool", "parts": [{"type": "tool-result", "content": items}]}
        out, _ = redact_message(message)
        assert out["parts"][0]["content"] == [
            {"type": "text", "text": "a [private]"},
            {"type": "text", "text": " b"},
        ]

    def test_a_span_closed_in_its_own_block_leaves_the_next_blocks_alone(self):
        message = {
            "role": "user",
            "parts": [
                {"type": "text", "text": "a <private>x</private> b"},
                {"type": "text", "text": "c"},
            ],
        }
        out, _ = redact_message(message)
        assert [p["text"] for p in out["parts"]] == ["a [private] b", "c"]


@pytest.mark.parametrize(
    "line",
    ["PRIMARY_KEY=id", "SORT_KEY=created_at", "CACHE_KEY=user_profile_v2", "PARTITION_KEY=tenant"],
)
def test_an_env_key_holding_a_name_stays(line: str) -> None:
    """`<NAME>_KEY=` without a known qualifier is a secret only when its value looks
    generated (16+ characters mixing letters and digits)."""
    assert redact_text(line)[0] == line

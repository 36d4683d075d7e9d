"""Redaction recall and precision on the two corpora (tests/support/redaction_corpus.py).

Recall: every secret of `tests/fixtures/redaction/secrets.jsonl`, in its own channel and sent
through tool-call arguments, a tool result and base64, vanishes under its kind's placeholder.
Precision: ordinary files (this project, the standard library, SDK sources, lockfile and
hash lines, certificates, public keys) come through with at most a few lines touched.
`bench/bench_redact.py` prints the same figures per kind, with throughput.
"""

from __future__ import annotations

from collections import Counter

import pytest
from support.redaction_corpus import (
    false_positive_lines,
    false_positive_sources,
    near_misses,
    secret_cases,
)

from acontext_mcp.privacy.redact import redact_text

CASES = secret_cases()

# Kinds the attack run of issue 10 got past redaction, each with a row of its own.
MISSED_BY_THE_ATTACK = {
    "pypi_token", "twilio_key", "twilio_auth_token", "sendgrid_key", "discord_token",
    "telegram_bot_token", "vault_token", "private_key_id", "password_hash", "base64_secret",
}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_secret_of_the_corpus_vanishes_under_its_kind(case):
    caught, why = case.caught()
    assert caught, why


def test_the_corpus_spans_many_kinds_and_channels():
    kinds = Counter(c.kind for c in CASES)
    channels = {c.channel.split(" ")[0] for c in CASES}
    assert set(kinds) >= MISSED_BY_THE_ATTACK
    assert len(kinds) >= 40 and len(CASES) >= 500
    assert {"env", "yaml", "json", "toml", "cli", "url", "header", "wrapped", "base64"} <= channels
    assert {"netrc", "htpasswd", "pgp", "tool-call", "tool-result"} <= channels
    # issue 12: secrets told in a sentence, .env files read by the agent, connection strings
    assert {"prose", "dotenv", "connstr"} <= channels
    prose = {c.kind for c in CASES if c.channel == "prose"}
    told = {"aws_secret_key", "password", "token", "api_key", "openai_key", "anthropic_key"}
    assert prose >= told | {"github_token", "slack_token", "stripe_key", "jwt"}
    # the command-line passwords of the attack: curl -u, mysql -p, docker login -p, sshpass -p
    texts = "\n".join(c.text for c in CASES if c.kind == "password")
    for command in (
        "curl -u ",
        "mysql -h db -u root -p",
        "docker login -u deploy -p ",
        "sshpass -p",
    ):
        assert command in texts


def test_ordinary_files_come_through_with_at_most_two_lines_touched():
    total, hits = false_positive_lines(false_positive_sources(max_lines=60_000))
    assert total >= 30_000
    assert len(hits) <= 2, "\n".join(hits)


def test_the_aws_secret_of_the_issue_told_in_a_sentence_is_redacted():
    # The documentation's key (it ends in EXAMPLEKEY) counts as a key: users paste it and
    # real ones alike, and a placeholder word inside a key's shape must not let a real one by.
    said = "my aws secret key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, put it in the config"
    out, counts = redact_text(said)
    assert out == "my aws secret key is [REDACTED:aws_secret_key], put it in the config"
    assert counts == {"aws_secret_key": 1}


@pytest.mark.parametrize("line", near_misses()[:16])
def test_a_secret_word_before_an_ordinary_value_is_left_alone(line):
    assert redact_text(line) == (line, {})


def test_no_near_miss_is_redacted():
    changed = [line for line in near_misses() if redact_text(line)[1]]
    assert changed == []

"""Contradicting statements: the newer replaces the older; neighbours that agree both stay."""

from __future__ import annotations

import pytest

from acontext_mcp.skills.contradict import (
    PROCEDURE,
    TRAP,
    USER,
    Statement,
    contradicts,
    is_newer,
    polarity,
    resolve,
    stem,
)

# (older, newer): the newer replaces the older.
CONTRADICTING = [
    ("Format code with black", "Never run black; use ruff format"),
    ("The user installs Python packages with pip", "Use uv instead of pip"),
    ("The user prefers tabs", "The user prefers spaces over tabs"),
    ("Run the tests with `pytest -x -q`", "Never use `pytest -x`, it hides later failures"),
    ("Deploy with `fly deploy`", "We switched from fly to render for deploys"),
    ("Use poetry for dependencies", "The user no longer uses poetry"),
    ("Use black", "black was replaced by ruff"),
    ("Never run black", "Format with black"),  # changed back: the newer positive wins
    ("Install packages with pip", "Don't use pip, use uv"),
    ("Use pnpm, not npm", "npm is fine for this repo"),
    ("The user wants tests before commits", "User wants tests before commits"),  # the same
]

# Pairs that must both stay.
COMPATIBLE = [
    ("Use black", "Use ruff for lint"),
    ("Format with black", "Don't run black on generated code"),  # an exception, not a reversal
    ("Use ruff for lint", "Never use ruff format, use black"),  # ruff format is not ruff lint
    ("Run the tests with `pytest`", "Never use `pytest -x`, it hides later failures"),
    ("Use uv instead of pip", "pip does not work behind the proxy"),  # an observation
    ("Answer concisely", "Never use emojis"),
    ("Run `pytest -m 'not slow'` for a quick check", "Don't use mocks"),  # "not" in code
    ("Commit messages in English", "Never push to main directly"),
    ("Run the tests before commits", "Don't run the tests before pushing, CI does it"),
    ("Use uv instead of pip", "Use ruff for lint"),
]


# A fact sheet as the learner and the user write it: nothing in it contradicts anything else.
FACT_SHEET = [
    "Communication: The user prefers short answers without preamble",
    "The user writes commit messages in the imperative mood",
    "The user does not want emojis in code comments",
    "Python version: The user targets Python 3.11 and newer",
    "The user prefers pytest over unittest",
    "Never commit directly to main; open a pull request",
    "The user uses Neovim, not VS Code",
    "Dependencies: The user installs packages with uv, never pip",
    "The user prefers dataclasses over plain dicts for records",
    "Don't add docstrings to test functions",
    "The user runs the linters before every commit",
    "The user avoids mocking the database; tests use a real SQLite file",
    "The user deploys with GitHub Actions, not by hand",
    "The user prefers rebasing over merge commits",
    "Use f-strings, not % formatting",
    "Never force-push to shared branches",
    "The user's editor is Neovim",
    "Logging: use the logging module, never print()",
    "The user reviews every database migration by hand",
    "Prefer composition over inheritance",
    "Tests: use the real database, no mocks",
    "The user merges pull requests with squash merges",
    "The user prefers docstrings in Google style",
]


def test_a_realistic_fact_sheet_keeps_every_fact() -> None:
    statements = [Statement(text, float(i)) for i, text in enumerate(FACT_SHEET)]
    assert resolve(statements) == [True] * len(FACT_SHEET)


@pytest.mark.parametrize(("older", "newer"), CONTRADICTING)
def test_the_newer_statement_replaces_the_older(older: str, newer: str) -> None:
    assert contradicts(Statement(older, 1.0), Statement(newer, 2.0))


@pytest.mark.parametrize(("older", "newer"), COMPATIBLE)
def test_statements_that_do_not_contradict_both_stay(older: str, newer: str) -> None:
    old, new = Statement(older, 1.0), Statement(newer, 2.0)
    assert not contradicts(old, new)
    assert resolve([old, new]) == [True, True]


def test_resolve_hides_the_older_whatever_the_input_order() -> None:
    black = Statement("Format code with black", 100.0)
    ruff = Statement("Never run black; use ruff format", 200.0)
    lint = Statement("Use ruff for lint", 50.0)
    assert resolve([black, ruff, lint]) == [False, True, True]
    assert resolve([ruff, lint, black]) == [True, True, False]
    # Changed back later: now black wins and the ban is hidden.
    again = Statement("Format with black after all", 300.0)
    assert resolve([black, ruff, again]) == [True, False, True]


def test_only_a_statement_that_stays_replaces_another() -> None:
    use = Statement("Use black", 1.0)
    ban = Statement("Never run black", 2.0)
    back = Statement("Format with black", 3.0)
    # `back` hides `ban`; `ban`, hidden, no longer hides `use`, which agrees with `back`.
    assert resolve([use, ban, back]) == [True, False, True]


def test_a_procedure_never_overrules_the_user_but_the_user_overrules_a_procedure() -> None:
    prefers_uv = Statement("Use uv instead of pip", 1.0, kind=USER)
    runbook_pip = Statement("Install: `pip install -e .`", 2.0, kind=PROCEDURE)
    assert not contradicts(prefers_uv, runbook_pip)
    assert resolve([prefers_uv, runbook_pip]) == [True, True]
    old_procedure = Statement("Format: `black .` before committing", 1.0, kind=PROCEDURE)
    user_ban = Statement("Never run black", 2.0, kind=USER)
    assert resolve([old_procedure, user_ban]) == [False, True]
    newer_procedure = Statement("Format: `ruff format .`", 3.0, kind=PROCEDURE)
    older = Statement("Never use `ruff format`", 2.0, kind=PROCEDURE)
    assert resolve([older, newer_procedure]) == [False, True]


def test_a_trap_asserts_nothing() -> None:
    prefers_uv = Statement("Use uv instead of pip", 1.0, kind=PROCEDURE)
    trap = Statement("pip install fails: set `PIP_INDEX_URL` first", 2.0, kind=TRAP)
    assert trap.asserted == frozenset()
    assert resolve([prefers_uv, trap]) == [True, True]


def test_undated_bullets_of_one_file_are_ordered_by_line() -> None:
    """A bullet without evidence only has its file's mtime: within the file, a later line is
    the newer statement, whatever the dates of the dated entries around it."""
    entry = Statement("Never run black", 5.0, source="f.md", order=2)
    plain_above = Statement("Format with black", 9.0, source="f.md", order=1, dated=False)
    plain_below = Statement("Format with black", 9.0, source="f.md", order=3, dated=False)
    assert is_newer(entry, plain_above) and not is_newer(entry, plain_below)
    assert resolve([plain_above, entry]) == [False, True]
    assert resolve([entry, plain_below]) == [False, True]


def test_polarity_reads_cues_outside_code_only() -> None:
    asserted, negated = polarity("Run `pytest -m 'not slow'`, never `pytest -x`")
    assert {"pytest", "slow", "-m"} <= asserted
    assert negated == {"pytest", "-x"}
    assert polarity("Use pnpm, not npm") == ({"pnpm"}, {"npm"})
    assert polarity("Replace black with ruff") == ({"ruf"}, {"black"})


def test_stem_is_the_same_on_both_sides() -> None:
    assert stem("formatting") == stem("formatted") == stem("formats") == stem("format")
    assert stem("installs") == stem("installed") == stem("install")
    assert stem("releases") == stem("release") and stem("pushes") == stem("push")
    assert stem("uv") == "uv" and stem("3.12") == "3.12" and stem("-x") == "-x"

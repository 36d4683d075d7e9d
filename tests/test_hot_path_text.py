"""The prompt hook's text helpers, written without `re`, find what the regexes they replace find."""

from __future__ import annotations

import random
import re

from acontext_mcp.skills.evidence import project_slug
from acontext_mcp.skills.prompt_words import prompt_terms, words
from acontext_mcp.skills.slug import project_slug as slug_itself

ALPHABET = "aZ9_-./\\ \t\n'\"`éßİ\u00a0\u2028\u200b\u0301\u0663二x"


def _texts(seed: int, count: int = 20000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 24))) for _ in range(count)]


def test_words_are_the_runs_the_old_regex_found() -> None:
    pattern = re.compile(r"[^\W_]+")
    for text in _texts(1):
        assert words(text) == pattern.findall(text), text


def test_project_slug_is_the_old_regex_slug() -> None:
    def by_regex(project_dir: str | None) -> str | None:
        if not project_dir:
            return None
        name = project_dir.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or None

    assert project_slug is slug_itself  # evidence re-exports the one rule
    for text in [*_texts(2), None, "/work/Shop API/", "C:\\src\\My_App", "---"]:
        assert project_slug(text) == by_regex(text), text


def test_prompt_terms_keep_content_words_once_in_order() -> None:
    found = prompt_terms("Thanks! The tests fail: no such table (alembic), tests again")
    assert found == ["tests", "fail", "table", "alembic"]  # "again", "such": stop words

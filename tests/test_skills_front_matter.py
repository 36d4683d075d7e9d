"""SKILL.md front matter is read the way YAML reads it, and what YAML rejects is refused with a
message saying how to fix it: on the product's own skills, the default skills, and SKILL.md files
written like Claude Code's and OpenClaw's (tests/fixtures/skill_md/). The learner is told too."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_provider import FakeProvider, call, tools

from acontext_mcp.errors import InvalidInput
from acontext_mcp.learn.learner import run_learner
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.skills import defaults
from acontext_mcp.skills.skillmd import parse_skill_md, split_front_matter
from acontext_mcp.skills.validate import validate_text

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "skill_md"
SHIPPED = sorted(REPO.glob("skills/*/SKILL.md")) + sorted(REPO.glob("plugins/*/skills/*/SKILL.md"))
CORPUS: dict[str, str] = {
    **{str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in SHIPPED},
    **{f"defaults:{name}": text for name, text in defaults.DEFAULT_SKILLS.items()},
    **{p.name: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.md"))},
}


def _as_yaml(front: str) -> Any:
    """The oracle: PyYAML's safe_load, dates written back as the text they were."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, datetime.date) else value

    return plain(yaml.safe_load(front))


def test_the_corpus_holds_every_kind_of_skill() -> None:
    assert len(SHIPPED) >= 3 and len(defaults.DEFAULT_SKILLS) == 3
    assert len(list(FIXTURES.glob("*.md"))) >= 6


@pytest.mark.parametrize("label", sorted(CORPUS))
def test_corpus_front_matter_is_parsed_as_yaml_and_valid(label: str) -> None:
    text = CORPUS[label]
    front_text, body = split_front_matter(text)
    assert front_text is not None
    front, parsed_body = parse_skill_md(text)
    assert front == _as_yaml(front_text)
    assert parsed_body == body
    assert validate_text(front["name"], text) == []


def test_block_scalars_quotes_lists_and_maps_read_as_yaml_reads_them() -> None:
    """Concrete values, so the corpus test is not only the parser against its own library."""
    read = {p.stem: parse_skill_md(p.read_text())[0] for p in FIXTURES.glob("*.md")}
    assert read["review-pr"]["description"] == (
        "Reviews a pull request against this repository's conventions.\n"
        'Use when the user asks for a review: "review #123" or "look at my PR".\n'
    )
    assert read["review-pr"]["disable-model-invocation"] is False
    flaky = read["fix-flaky-tests"]
    assert flaky["description"].startswith("Finds and fixes flaky tests in a Python repository: ")
    assert flaky["description"].endswith(
        "state.\nUse when a test passes locally and fails in CI (or the other way round)."
    )
    assert flaky["allowed-tools"] == ["Read", "Grep", "Bash(uv run pytest:*)"]
    assert read["gh-issues"]["metadata"]["openclaw"]["requires"]["bins"] == ["gh"]
    assert read["weather-brief"]["metadata"]["openclaw"]["emoji"] == "🌤️"
    assert read["weather-brief"]["metadata"]["version"] == "1.2"
    pdf = read["pdf-forms"]
    assert pdf["description"].startswith(
        "Fills and extracts PDF form fields with pypdf; the user's"
    )
    assert pdf["compatibility"] == "Requires Python 3.10+ and pypdf"
    assert pdf["metadata"] == {"source": "mymem", "updated": "2026-08-01", "reviewed": "2026-08-02"}
    assert read["python-packaging"]["description"] == (
        "How to build and publish this user's Python packages; use when packaging, building "
        "wheels or fixing pip install errors."
    )


def test_folded_strip_drops_the_final_newline() -> None:
    text = "---\nname: a\ndescription: >-\n  one\n  two\nx: >\n  three\n---\n"
    front = parse_skill_md(text)[0]
    assert front["description"] == "one two"
    assert front["x"] == "three\n"


@pytest.mark.parametrize(
    ("front", "says"),
    [
        ("name: a\ndescription: Use when: deploying", 'description: "Use when: deploying"'),
        ("name: a\nmetadata:\n\tversion: 1", "indent with spaces, not tabs"),
        ("name: a\ndescription: x\n\tversion: 1", "indent with spaces, not tabs"),
        ("name: a\n  bad: indent", "un-indent it if it starts a new key"),
        ("name: a\ndescription b", "each line is 'key: value'"),
        ("name: a\ndescription: [deploy, ship", "quote a value that holds ': '"),
        ("name: a\nblob: !!binary aGk=", "write it as a quoted string"),
        ("just a sentence", "must be 'key: value' lines"),
        ("name: a\ndescription: bell\x07", "control character U+0007"),
    ],
)
def test_what_yaml_rejects_is_refused_saying_how_to_fix_it(front: str, says: str) -> None:
    text = f"---\n{front}\n---\nbody\n"
    with pytest.raises(InvalidInput) as caught:
        parse_skill_md(text)
    assert says in str(caught.value)
    problems = validate_text("a", text)
    assert len(problems) == 1 and says in problems[0], problems


def test_the_error_names_the_skill_md_line() -> None:
    text = "---\nname: a\ndescription: ok\nwhen_to_use: Use when: deploying\n---\n"
    with pytest.raises(InvalidInput, match=r"^line 4: "):
        parse_skill_md(text)


def test_the_learner_is_told_how_to_fix_front_matter_and_can_retry(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    root.mkdir()
    broken = "---\nname: deploy-ops\ndescription: Use when: deploying\n---\n# Deploy\n"
    fixed = '---\nname: deploy-ops\ndescription: "Use when: deploying"\n---\n# Deploy\n'
    model = FakeProvider(
        [
            tools(call("report_thinking", thinking="New domain: deploys.")),
            tools(call("create_skill", skill_md_content=broken)),
            tools(call("create_skill", skill_md_content=fixed)),
            tools(call("finish")),
        ]
    )
    workspace = SkillWorkspace(root)
    run = run_learner(model, workspace, [{"text": "x"}], today="2026-12-02", rounds=5)
    told = model.requests[2]["messages"][-1]["parts"][0]
    assert told["is_error"]
    assert (
        "quote the value: a colon followed by a space starts a mapping in YAML, so write "
        'description: "Use when: deploying"' in told["content"][0]["text"]
    )
    assert run.finished and workspace.created == ["deploy-ops"]


# --- The plain fast path (skillmd._simple) answers only where its answer is PyYAML's ----------

_KEYS = ["name", "description", "x", "on", "Yes", "a-b_c", " name", "metadata", "2x", "é"]
_SEPS = [": ", ":", ":  ", " : ", ": "]
_VALUES = [
    "a", "Builds wheels", "Use when: deploying", "C# and F#", "x #y", "yes", "No", "null",
    "~", "1", "1.0", "2024-01-01", ">", ">-", "|", "|-", ">+", "|2", "'q'", '"q"', "[a, b]",
    "- a", "é café", "a\tb", "a ", "", "http://x.org/a", "end:", "a,b{c}", "ok\x85x", "ok\u2028",
    "x\r", ".inf", "0x1F", "Off", "a: b: c", "?a", "%x", "`x`",
]  # fmt: skip
_PLAIN = ["a", "Builds wheels", "C# and F#", "http://x.org/a", "a,b{c}", "é café", ">", "|-"]
_INDENTS = ["", " ", "  ", "  ", "   ", "    ", "\t"]


def _random_front(rng: random.Random) -> str:
    """Mostly plain entries, each with a fair chance of one hostile part."""

    def pick(good: list[str], bad: list[str]) -> str:
        return rng.choice(good if rng.random() < 0.8 else bad)

    lines: list[str] = []
    for _ in range(rng.randint(1, 3)):
        lines.append(pick(_KEYS[:2], _KEYS) + pick([": "], _SEPS) + pick(_PLAIN, _VALUES))
        for _ in range(rng.choice([0, 0, 1, 2])):
            lines.append(pick(["  "], _INDENTS) + pick(_PLAIN[:6], _VALUES))
        if rng.random() < 0.1:
            lines.append("")
    return "\n".join(lines) + rng.choice(["\n", "\n\n", ""])


def _yaml_or_error(front: str) -> Any:
    from acontext_mcp.skills.skillmd import parse_front_matter

    try:
        return parse_front_matter(front)
    except InvalidInput:
        return "refused"


@pytest.mark.parametrize("label", sorted(CORPUS))
def test_the_fast_path_agrees_with_yaml_on_the_corpus(label: str) -> None:
    from acontext_mcp.skills.skillmd import _simple

    front = split_front_matter(CORPUS[label])[0]
    assert front is not None
    simple = _simple(front)
    assert simple is None or simple == _yaml_or_error(front)


def test_the_fast_path_agrees_with_yaml_on_generated_front_matter() -> None:
    from acontext_mcp.skills.skillmd import _simple

    rng = random.Random(11)
    taken = 0
    for _ in range(6000):
        front = _random_front(rng)
        simple = _simple(front)
        if simple is not None:
            taken += 1
            assert simple == _yaml_or_error(front), front
    assert taken > 300  # the generator reaches the fast path often enough to mean something


def test_what_the_defaults_and_the_learner_write_takes_the_fast_path(tmp_path: Path) -> None:
    """So the SessionStart brief lists skills without importing PyYAML (~10 ms)."""
    import subprocess
    import sys

    from acontext_mcp.skills.skillmd import _simple

    texts = [
        *defaults.DEFAULT_SKILLS.values(),
        CORPUS["python-packaging.md"],
        *map(Path.read_text, SHIPPED),
    ]
    for text in texts:
        front = split_front_matter(text)[0]
        assert front is not None and _simple(front) is not None, front
    root = tmp_path / "skills"
    defaults.ensure_default_skills(root)
    code = (
        "import sys; from acontext_mcp.skills.catalog import list_skills\n"
        f"assert len(list_skills({str(root)!r})) == 3\n"
        "print('yaml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"

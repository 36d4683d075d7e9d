"""The skills the product ships are valid Agent Skills, and name only commands the CLI has.

Shipped skills are `skills/*/SKILL.md` (the repository's own, e.g. the installer an agent is
pointed at) and the skills bundled in `plugins/*/skills/`. They are parsed with our own
SKILL.md parser. Every `acontext-mcp ...` command line in their code (fenced blocks and inline
code) must parse with the real argparse parser, so a skill cannot drift from the CLI.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from acontext_mcp.cli import build_parser
from acontext_mcp.skills.skillmd import parse_skill_md

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted(REPO.glob("skills/*/SKILL.md")) + sorted(REPO.glob("plugins/*/skills/*/SKILL.md"))
NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # spec: no leading, trailing or double hyphen
FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
# `acontext-mcp` as a command (also `/path/bin/acontext-mcp`), followed by a subcommand word;
# not `~/.acontext-mcp`, `.../acontext-mcp/bin` or `acontext-mcp X.Y.Z`.
COMMAND = re.compile(r"(?<![\w.-])acontext-mcp[ \t]+(?=[a-z])([^\n|;&>#`]*)")


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def _code(text: str) -> list[str]:
    """Fenced blocks line by line, then inline code spans outside the fences."""
    snippets = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return snippets + INLINE.findall(FENCE.sub("", text))


def command_lines(text: str) -> list[list[str]]:
    """argv after `acontext-mcp` for every command the text's code mentions."""
    found = []
    for snippet in _code(text):
        for match in COMMAND.finditer(snippet):
            found.append(shlex.split(match.group(1), comments=True))
    return found


def _mentions() -> list[tuple[str, list[str]]]:
    return [(_rel(p), argv) for p in SHIPPED for argv in command_lines(p.read_text())]


def _subcommands() -> dict[str, object]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return dict(sub.choices)  # type: ignore[arg-type]


def test_the_installer_skill_is_shipped() -> None:
    assert REPO / "skills" / "install-acontext-mcp" / "SKILL.md" in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=_rel)
def test_shipped_skill_follows_the_agent_skills_rules(path: Path) -> None:
    front, body = parse_skill_md(path.read_text(encoding="utf-8"))
    name = front.get("name")
    assert isinstance(name, str) and NAME.match(name) and len(name) <= 64, name
    assert name == path.parent.name, "the name must match the skill's folder"
    description = front.get("description")
    assert isinstance(description, str) and description.strip(), "description is required"
    assert len(description) <= 1024, f"description is {len(description)} characters"
    assert "<" not in description and ">" not in description, "the spec validator rejects <>"
    assert len(body.splitlines()) < 500, "keep SKILL.md bodies under 500 lines"
    assert body.strip().startswith("#"), "the body opens with a heading"


def test_the_installer_skill_walks_through_the_whole_setup() -> None:
    """The steps the one-line setup promises, each a command an agent runs."""
    text = (REPO / "skills" / "install-acontext-mcp" / "SKILL.md").read_text()
    said = {" ".join(argv[:2]) for argv in command_lines(text)}
    for step in ("install claude-code", "doctor", "import claude-code", "uninstall claude-code"):
        assert step in said, f"the installer skill never runs `acontext-mcp {step}`"
    for marker in (".acontext-off", "capture-off", "capture-off-sessions", "exclude_projects"):
        assert marker in text, f"the installer skill does not explain the {marker} switch"
    assert "sys.version_info < (3, 11)" in text
    assert "git+https://github.com/<owner>/acontext-mcp" in text


def test_mentions_are_found_in_code_only() -> None:
    text = (
        "acontext-mcp is great.\n`acontext-mcp status` and `~/.acontext-mcp` and "
        "`pipx uninstall acontext-mcp`\n```bash\n~/.venvs/acontext-mcp/bin/acontext-mcp import "
        "claude-code --dry-run | tail -n 1\nacontext-mcp --version\n```\n"
        "1. Undo:\n\n   ```bash\n   acontext-mcp uninstall claude-code  # all of it\n   ```\n"
    )
    assert command_lines(text) == [
        ["import", "claude-code", "--dry-run"],
        ["uninstall", "claude-code"],
        ["status"],
    ]


@pytest.mark.parametrize(
    ("skill", "argv"), _mentions(), ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_every_command_a_shipped_skill_mentions_exists(skill: str, argv: list[str]) -> None:
    """A bare `acontext-mcp CMD` must name a command; a longer one must parse as given."""
    assert argv[0] in _subcommands(), f"{skill}: `acontext-mcp {argv[0]}` is not a command"
    if len(argv) == 1:
        return
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            assert exc.code == 0, f"{skill}: `acontext-mcp {' '.join(argv)}`: {errors.getvalue()}"

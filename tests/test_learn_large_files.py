"""The learner reads a large skill file by its parts: get_skill_file shows its outline, and
`path#heading` one section's exact text, which str_replace_skill_file can quote. A run's cost
then follows the section it changes, not the file's size. Real files, the real workspace."""

from __future__ import annotations

from acontext_mcp.learn.workspace import LARGE_FILE_CHARS, SkillWorkspace
from acontext_mcp.skills.defaults import prepare
from acontext_mcp.skills.evidence import Entry


def _runbook(settings) -> str:
    prepare(settings)
    build = [
        Entry(f"Build step {i}", f"`make part{i}` " + "detail " * 20, [], 2, 1, "2026-01-01",
              "2026-01-02").render()
        for i in range(80)
    ]  # fmt: skip
    text = (
        "# shop\n\nPath: `/work/shop`\n\n## Build\n" + "\n".join(build) + "\n\n## Traps\n"
        "- **Port 8080 taken**: stop the old dev server first (seen 3×, verified 3×, 2026-01-05)\n"
        "- the user's own note\n"
    )
    path = settings.skills_dir / "project-runbooks" / "projects" / "shop.md"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return text


def test_a_large_file_reads_as_its_outline_and_one_section(settings):
    text = _runbook(settings)
    assert len(text) > LARGE_FILE_CHARS
    ws = SkillWorkspace(settings.skills_dir)
    shown = ws.get_skill_file("project-runbooks", "projects/shop.md")
    assert len(shown) < len(text) / 3
    assert "only its outline is shown" in shown and "'projects/shop.md#Traps'" in shown
    assert "## Traps" in shown and "- **Port 8080 taken** (seen 3×)" in shown
    traps = ws.get_skill_file("project-runbooks", "projects/shop.md#Traps")
    assert traps == (
        "## Traps\n"
        "- **Port 8080 taken**: stop the old dev server first (seen 3×, verified 3×, 2026-01-05)\n"
        "- the user's own note\n"
    )
    assert traps in text  # exact text: an edit can quote it
    done = ws.str_replace_skill_file(
        "project-runbooks", "projects/shop.md", "- the user's own note\n",
        "- the user's own note\n- **Stale cache**: run `make clean` (seen 1×, 2026-02-01)\n",
    )  # fmt: skip
    assert done == "Edited project-runbooks/projects/shop.md."
    build = ws.get_skill_file("project-runbooks", "projects/shop.md#build")
    assert build.startswith("## Build\n") and "## Traps" not in build
    missing = ws.get_skill_file("project-runbooks", "projects/shop.md#Deploy")
    assert missing.startswith("Error: ") and "## Build; ## Traps" in missing
    # Small files and SKILL.md are read whole, as before.
    assert ws.get_skill_file("project-runbooks", "SKILL.md").startswith("---\nname: ")

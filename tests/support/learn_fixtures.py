"""A scripted good learner for in-process tests: a packaging skill, its first procedure, and
the distillation and learner replies that produce them (with support.fake_provider)."""

from __future__ import annotations

from support.fake_provider import call, tools

from acontext_mcp.llm import Reply

SKILL_MD = """\
---
name: python-packaging
description: How to build and publish this user's Python packages; use when packaging,
  building wheels or fixing pip install errors.
---

# Python packaging

Procedures and traps met while packaging Python projects.

## File structure
- `procedures.md`: one section per procedure.

## Guidelines
- Keep entries short and concrete.
"""

PROCEDURE = """\
## Build a wheel with hatch (date: 2026-12-02)
- **Principle**: build from a clean tree.
- **When to apply**: before publishing.
- **Steps**: run `python -m build`; check `dist/` holds one wheel.
"""

SUCCESS = call(
    "report_success_analysis",
    task_goal="Build the wheel for acontext-mcp",
    approach="Ran python -m build after cleaning dist/",
    key_decisions=["Use hatchling", "Clean dist first"],
    generalizable_pattern="Clean, build, check the artifact",
    applies_when="Packaging a hatchling-based Python project",
)


def learner_script(skill_md: str = SKILL_MD) -> list[Reply]:
    """A learner that plans, creates one skill with a data file, and finishes."""
    return [
        tools(call("list_skills")),
        tools(call("report_thinking", thinking="New domain: packaging. Create python-packaging.")),
        tools(
            call("create_skill", skill_md_content=skill_md),
            call(
                "create_skill_file",
                skill_name="python-packaging",
                file_path="procedures.md",
                content=PROCEDURE,
            ),
        ),
        tools(call("finish")),
    ]

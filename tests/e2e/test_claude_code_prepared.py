"""Real Claude Code gets a SessionStart answer prepared ahead (hooks/session_start.py).

Two headless `claude -p` sessions in one project, with our plugin, a temp HOME and
CLAUDE_CONFIG_DIR, against the scripted fake Messages API. The skills repository (with a
runbook for the project) is committed first and left past the 2 s freshness window, as a
user's would be. Session 1's SessionStart answers live and syncs; its SessionEnd's detached
child prepares the next answer. Session 2's SessionStart answers from it: the hook log says
so, the brief names what session 1's user asked and the runbook's trap, and Claude Code puts
it before the model.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from test_claude_code_skills import commit_skill, fake_api, run_claude, wait_for_hooks

from acontext_mcp.config import Settings
from acontext_mcp.store import prepared

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

ASKED = "OKAPI-4471: note the release checklist"
TRAP = "Port busy"


def _session_start_lines(store: Any) -> list[str]:
    log = (store / "logs" / "hooks.log").read_text().splitlines()
    return [x for x in log if re.match(r"\S+ \S+ \d+ claude-code SessionStart ok", x)]


def test_the_next_session_is_answered_from_the_prepared_answer(claude_code: Any, tmp_path) -> None:
    work = tmp_path.resolve()
    home, config, project, store = (work / n for n in ("home", "claude-config", "project", "store"))
    for folder in (home, config, project, store):
        folder.mkdir()
    settings = Settings(home=store, skills_dir=store / "skills")  # what the hooks will use
    commit_skill(
        settings.skills_dir,
        "project-runbooks",
        "Runbooks of this user's projects.",
        files={f"projects/{project.name}.md": f"## Traps\n\n- **{TRAP}**: free 8080 first\n"},
    )
    time.sleep(2.1)  # the skills are older than the freshness window, as a user's are
    timings = claude_code.timings

    with fake_api(work / "model") as api:
        first = run_claude(claude_code, api, home, config, ASKED, acontext_home=store, cwd=project)
        timings.append(("claude -p, prepared session 1 (live answer)", first.seconds))
        timings.append(("  hooks settled after exit", wait_for_hooks(store)))
        # Its SessionEnd's detached child prepared the answer for the next session here.
        data = prepared.load(str(store), "claude-code", str(project))
        assert data is not None, (store / "logs" / "hooks.log").read_text()
        assert ASKED.split(":")[0] in data["output"]["hookSpecificOutput"]["additionalContext"]

        second = run_claude(
            claude_code, api, home, config, "ECHO: hello again", acontext_home=store, cwd=project
        )
        timings.append(("claude -p, prepared session 2 (prepared answer)", second.seconds))
        timings.append(("  hooks settled after exit", wait_for_hooks(store)))

    starts = _session_start_lines(store)
    assert len(starts) == 2, starts
    assert "prepared answer" not in starts[0] and "prepared answer" in starts[1], starts
    (answer,) = second.hook_answers("SessionStart")
    brief = answer["hookSpecificOutput"]["additionalContext"]
    assert "OKAPI-4471" in brief and TRAP in brief, brief
    requests = api.requests(second.session_id)
    assert requests, "no model request of session 2"
    assert "OKAPI-4471" in json.dumps(requests[0]["body"])  # the model saw it
    # The detached child recorded what the brief delivered, for session 2.
    import sqlite3

    with sqlite3.connect(store / "acontext.db") as conn:
        kinds = conn.execute(
            "SELECT kind FROM skill_uses WHERE session_id = ?", (second.session_id,)
        ).fetchall()
    assert ("brief",) in kinds, kinds

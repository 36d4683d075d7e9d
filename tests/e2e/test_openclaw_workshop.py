"""Real OpenClaw (2026.9.6): our proposals go through its Skill Workshop, both ways.

No model is needed: everything here is `openclaw skills ...` CLI work in a temp HOME and
OPENCLAW_STATE_DIR, driven by skills/workshop.py (the proposals API is the in-memory double
of tests/support/proposals_double.py over a real git skills repository).

1. A skill of ours is synced into OpenClaw's shared `<state>/skills` as before
   (`openclaw skills list` shows it with source `openclaw-managed`).
2. Three proposals: an update of that skill (with a support file), a new skill, a second new
   skill. `reconcile` submits each to the Workshop: `inspect` shows them pending, with our
   content as PROPOSAL.md; nothing reaches a skill folder.
3. The user applies the first in OpenClaw and rejects the second there; the third is accepted
   with our CLI (`follow_decision`). The next `sync_all` accepts / rejects ours to match;
   the third is applied in the Workshop. The applied skills are live in the Workshop's folder
   and OpenClaw lists them from there (`openclaw-workshop`), our shared copy is taken back.
4. A later accepted change of a handed-over skill reaches OpenClaw as a Workshop update.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.proposals_double import ProposalsDouble
from test_claude_code_skills import commit_skill
from test_openclaw import _timed

from acontext_mcp.config import Settings
from acontext_mcp.skills import handover, workshop
from acontext_mcp.skills.sync import sync_all

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

UPDATED = "quokka-release-runbook"
NEW = "flaky-test-triage"
OURS = "ledger-migration-steps"
OLD_DESCRIPTION = "Quokka release runbook. Use when asked to release."
NEW_DESCRIPTION = "Quokka release runbook, tag step included. Use when asked to release."
RUN_TIMEOUT = 180


def _skill(name: str, description: str, body: str) -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}"


class OpenClawCli:
    """`openclaw ...` in the test's environment (the same one skills/workshop.py inherits)."""

    def __init__(self, oc: Any) -> None:
        self.oc = oc

    def json(self, *args: str) -> Any:
        proc = subprocess.run(
            [str(self.oc.bin), *args, "--json"],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, f"openclaw {args} exit {proc.returncode}\n{proc.stdout}"
        return json.loads(proc.stdout)

    def skills(self) -> dict[str, dict[str, Any]]:
        listed = _timed(self.oc.timings, "openclaw skills list", self.json, "skills", "list")
        return {s["name"]: s for s in listed["skills"]}

    def workshop(self, *args: str) -> Any:
        return _timed(
            self.oc.timings, f"openclaw skills workshop {args[0]}", self.json, "skills",
            "workshop", *args,
        )  # fmt: skip


def test_proposals_go_through_skill_workshop_and_both_sides_follow(
    openclaw: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{openclaw.node_bin}:{os.environ['PATH']}")
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(state))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    settings = Settings(home=tmp_path / "home", skills_dir=tmp_path / "home" / "skills")
    settings.ensure_dirs()
    (settings.home / "config.json").write_text(
        json.dumps({"openclaw": {"command": str(openclaw.bin)}})
    )
    cli = OpenClawCli(openclaw)

    # 1. Our skill, synced into OpenClaw's shared folder the usual way.
    commit_skill(settings.skills_dir, UPDATED, OLD_DESCRIPTION, "# Quokka\n\nRun make release.\n")
    synced = sync_all(settings)
    assert UPDATED in synced[-1].written and (state / "skills" / UPDATED).is_dir()
    before = cli.skills()
    assert before[UPDATED]["source"] == "openclaw-managed"
    assert before[UPDATED]["description"] == OLD_DESCRIPTION

    # 2. Three proposals reach the Workshop, and no skill folder.
    api = ProposalsDouble()
    body = "# Quokka\n\nRun make release, then `git tag v$(cat VERSION)`.\n"
    api.add("p-update", "Tag after release (tests passed)", {
        f"{UPDATED}/SKILL.md": _skill(UPDATED, NEW_DESCRIPTION, body),
        f"{UPDATED}/scripts/tag.sh": "git tag v$(cat VERSION)\n",
    })  # fmt: skip
    api.add("p-new", "Flaky test triage", {
        f"{NEW}/SKILL.md": _skill(NEW, "Triage a flaky test. Use when a test flakes.", "# F\n"),
    })  # fmt: skip
    api.add("p-ours", "Ledger migrations", {
        f"{OURS}/SKILL.md": _skill(OURS, "Ledger migration steps. Use when migrating.", "# L\n"),
    })  # fmt: skip
    report = _timed(openclaw.timings, "reconcile: submit 3", workshop.reconcile, settings, api)
    assert report.ok and len(report.submitted) == 3, report.summary()
    assert isinstance(workshop.detect(settings), workshop.Workshop)
    sent = workshop_ids(settings, state)
    inspected = cli.workshop("inspect", sent[UPDATED])
    assert inspected["record"]["status"] == "pending"
    assert inspected["record"]["kind"] == "create"  # our synced copy is not Workshop-owned
    assert "git tag v$(cat VERSION)" in inspected["content"]
    assert [f["path"] for f in inspected["record"]["supportFiles"]] == ["scripts/tag.sh"]
    for name in (NEW, OURS):
        assert cli.workshop("inspect", sent[name])["record"]["status"] == "pending"
        assert not (state / "skills" / name).exists()
    live = state / "agents" / "main" / "agent" / "workshop-skills"
    assert not live.exists()
    again = workshop.reconcile(settings, api)  # nothing new: nothing submitted twice
    assert again.ok and not again.submitted and not again.revised
    assert len(cli.workshop("list")["proposals"]) == 3

    # 3. Decisions: two in OpenClaw, one with our CLI.
    cli.workshop("apply", sent[UPDATED])
    cli.workshop("reject", sent[NEW], "--reason", "Not reusable here")
    api.accept(settings.skills_dir, "p-ours")
    followed = workshop.follow_decision(settings, "p-ours", "accepted")
    assert followed.ok and followed.applied, followed.summary()

    reports = _timed(openclaw.timings, "sync_all with reconcile", sync_all, settings, proposals=api)
    oc = reports[-1]
    assert oc.target == state / "skills" and oc.ok and oc.workshop is not None
    assert oc.workshop.ok, oc.workshop.summary()
    assert api.accepted == ["p-ours", "p-update"]
    ((rejected, reason),) = api.rejected
    assert rejected == "p-new" and "Not reusable here" in (reason or "")
    statuses = {p["id"]: p["status"] for p in cli.workshop("list")["proposals"]}
    assert statuses == {sent[UPDATED]: "applied", sent[NEW]: "rejected", sent[OURS]: "applied"}
    assert body in (settings.skills_dir / UPDATED / "SKILL.md").read_text()  # merged on main
    assert "git tag" in (live / UPDATED / "scripts" / "tag.sh").read_text()
    assert body.strip() in (live / UPDATED / "SKILL.md").read_text()
    assert not (state / "skills" / UPDATED).exists()  # our copy no longer hides the Workshop's
    assert handover.handed_over(settings) == {UPDATED, OURS}
    after = cli.skills()
    assert after[UPDATED]["source"] == "openclaw-workshop"
    assert after[UPDATED]["description"] == NEW_DESCRIPTION
    assert after[OURS]["source"] == "openclaw-workshop"
    assert NEW not in after

    # 4. A later accepted change of a handed-over skill goes through the Workshop too.
    changed = _skill(OURS, "Ledger migration steps. Use when migrating.", "# L\n\nBack up first.\n")
    commit_skill(settings.skills_dir, OURS, "Ledger migration steps. Use when migrating.",
                 "# L\n\nBack up first.\n", task_id=9)  # fmt: skip
    assert (settings.skills_dir / OURS / "SKILL.md").read_text() == changed
    delivered = _timed(openclaw.timings, "reconcile: deliver", workshop.reconcile, settings, api)
    assert delivered.ok and delivered.delivered, delivered.summary()
    assert "Back up first." in (live / OURS / "SKILL.md").read_text()
    kinds = sorted(p["kind"] for p in cli.workshop("list")["proposals"])
    assert kinds == ["create", "create", "create", "update"]
    assert not (state / "skills" / OURS).exists()


def workshop_ids(settings: Settings, state: Path) -> dict[str, str]:
    """Skill name -> the Workshop proposal id our state file recorded for it."""
    data = json.loads((settings.home / handover.STATE_FILE).read_text())
    records = data["openclaw"][str(state)]["proposals"]
    return {skill: sub["id"] for r in records.values() for skill, sub in r["skills"].items()}

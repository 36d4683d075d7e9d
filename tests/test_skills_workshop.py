"""Proposals reach OpenClaw's Skill Workshop (skills/workshop.py), against a fake `openclaw`.

The fake (tests/support/fake_openclaw.py) is a real executable answering the way OpenClaw
2026.9.6 did when probed; the proposals API is tests/support/proposals_double.py over a real
git skills repository. The real OpenClaw runs in tests/e2e/test_openclaw_workshop.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import fake_openclaw
from support.proposals_double import ProposalsDouble

from acontext_mcp.config import Settings
from acontext_mcp.skills import handover, workshop
from acontext_mcp.skills.sync import sync_all, targets

SKILL = "quokka-runbook"
NEW = f"---\nname: {SKILL}\ndescription: Quokka release runbook. Use when releasing.\n---\n# Q\n"


@dataclass
class Env:
    settings: Settings
    bin: Path  # the folder holding the fake openclaw
    state: Path  # OPENCLAW_STATE_DIR
    api: ProposalsDouble

    @property
    def live(self) -> Path:
        """The Workshop's folder of applied skills (what `apply` writes)."""
        return self.state / "agents" / "main" / "agent" / "workshop-skills"

    def actions(self) -> list[str]:
        return [c[2] if c[0] == "skills" else c[0] for c in fake_openclaw.calls(self.bin)]

    def record(self) -> dict:
        data = json.loads((self.settings.home / handover.STATE_FILE).read_text())
        return data["openclaw"][str(self.state)]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    from acontext_mcp.skills.repo import ensure_repo

    settings = Settings(home=tmp_path / "home", skills_dir=tmp_path / "skills")
    settings.ensure_dirs()
    ensure_repo(settings.skills_dir).close()
    state = tmp_path / "openclaw-state"
    state.mkdir()
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(state))
    (tmp_path / "claude").mkdir()  # Claude Code is installed: sync writes only into agents here
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    exe = fake_openclaw.install(tmp_path / "bin")
    (settings.home / "config.json").write_text(json.dumps({"openclaw": {"command": str(exe)}}))
    return Env(settings, exe.parent, state, ProposalsDouble())


def _commit(settings: Settings, name: str, description: str) -> None:
    """A skill on main, committed the way the learner does."""
    from acontext_mcp.skills.repo import commit_learning

    folder = settings.skills_dir / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\n# S\n")
    assert commit_learning(settings.skills_dir, f"Learned {name}", session_id="s", task_id=1,
                           paths=[name])  # fmt: skip


def _only(items: dict) -> tuple[str, dict]:
    assert len(items) == 1, items
    return next(iter(items.items()))


def test_a_new_skill_is_proposed_once_and_never_copied_into_openclaw(env: Env) -> None:
    env.api.add("p1", "Learned the quokka release runbook", {f"{SKILL}/SKILL.md": NEW,
                f"{SKILL}/scripts/release.sh": "make release\n"})  # fmt: skip

    report = workshop.reconcile(env.settings, env.api)

    assert report.ok and report.unavailable is None, report
    assert len(report.submitted) == 1
    wid, sent = _only(fake_openclaw.proposals(env.bin))
    assert sent["kind"] == "create" and sent["skillName"] == SKILL and sent["status"] == "pending"
    assert sent["files"] == {"PROPOSAL.md": NEW, "scripts/release.sh": "make release\n"}
    assert sent["description"] == "Learned the quokka release runbook"
    assert "p1" in sent["evidence"]
    assert env.record()["proposals"]["p1"]["skills"][SKILL]["id"] == wid

    again = workshop.reconcile(env.settings, env.api)  # same version: not proposed twice
    assert again.ok and not again.submitted and not again.revised
    assert len(fake_openclaw.proposals(env.bin)) == 1
    assert env.actions().count("--version") == 1  # the probe is cached
    assert env.actions().count("propose-create") == 1

    reports = sync_all(env.settings, proposals=env.api)
    assert all(r.ok for r in reports)
    assert not (env.state / "skills" / SKILL).exists()  # a proposal never reaches a folder
    assert not (env.live / SKILL).exists()
    assert env.api.accepted == [] and env.api.rejected == []


def test_applied_in_openclaw_accepts_ours_and_hands_the_skill_over(env: Env) -> None:
    _commit(env.settings, SKILL, "Old runbook. Use when releasing.")
    first = sync_all(env.settings)  # our copy in OpenClaw's shared folder, as before
    assert SKILL in first[-1].written and (env.state / "skills" / SKILL).is_dir()
    env.api.add("p1", "Release runbook: tag too", {f"{SKILL}/SKILL.md": NEW})
    workshop.reconcile(env.settings, env.api)
    wid, sent = _only(fake_openclaw.proposals(env.bin))
    # Not held by the Workshop yet (our sync's copy is not Workshop-generated): a create.
    assert sent["kind"] == "create"

    # The user applies it in OpenClaw.
    apply = [str(env.bin / "openclaw"), "skills", "workshop", "apply", wid, "--json"]
    subprocess.run(apply, check=True, capture_output=True)

    reports = sync_all(env.settings, proposals=env.api)

    oc = next(r for r in reports if r.target == env.state / "skills")
    assert oc.workshop is not None and oc.workshop.accepted, oc.summary()
    assert env.api.accepted == ["p1"]
    assert (env.settings.skills_dir / SKILL / "SKILL.md").read_text() == NEW  # merged
    assert (env.live / SKILL / "SKILL.md").read_text() == NEW  # live in OpenClaw's Workshop
    # Handed over: our copy (which would outrank the Workshop's) is taken back ...
    assert SKILL in oc.removed and not (env.state / "skills" / SKILL).exists()
    assert handover.handed_over(env.settings) == {SKILL}
    # ... Claude Code still gets it, and later syncs leave OpenClaw's folder alone.
    claude = env.settings.home.parent / "claude" / "skills" / SKILL / "SKILL.md"
    assert claude.read_text() == NEW
    assert "workshop" in oc.to_dict() and "accepted" in oc.summary()
    later = sync_all(env.settings, proposals=env.api)
    assert not (env.state / "skills" / SKILL).exists() and later[-1].ok
    # The hooks' targets carry the same exclusion.
    (oc_target,) = [t for t in targets(env.settings) if t.agent == "openclaw"]
    assert oc_target.exclude == {SKILL}

    # A later change accepted without a proposal reaches OpenClaw through the Workshop too.
    newer = NEW + "\nThen tag the release.\n"
    (env.settings.skills_dir / SKILL / "SKILL.md").write_text(newer)
    delivered = workshop.reconcile(env.settings, env.api)
    assert delivered.delivered and delivered.ok, delivered
    assert (env.live / SKILL / "SKILL.md").read_text() == newer
    kinds = [p["kind"] for p in fake_openclaw.proposals(env.bin).values()]
    assert kinds == ["create", "update"]
    assert not workshop.reconcile(env.settings, env.api).delivered  # once

    # Removed in OpenClaw by the user: a later change does not put it back.
    import shutil

    shutil.rmtree(env.live / SKILL)
    (env.settings.skills_dir / SKILL / "SKILL.md").write_text(newer + "More.\n")
    kept_out = workshop.reconcile(env.settings, env.api)
    assert not kept_out.delivered and "removed from OpenClaw's Workshop" in kept_out.waiting[0]
    assert not (env.live / SKILL).exists() and not (env.state / "skills" / SKILL).exists()

    # Removed from our repository: the hand-over ends, said once.
    shutil.rmtree(env.settings.skills_dir / SKILL)
    ended = workshop.reconcile(env.settings, env.api)
    assert "removed from the skills repository" in ended.waiting[0]
    assert handover.handed_over(env.settings) == set()
    assert not workshop.reconcile(env.settings, env.api).waiting


def test_rejected_in_openclaw_rejects_ours_with_its_reason(env: Env) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    workshop.reconcile(env.settings, env.api)
    wid, _ = _only(fake_openclaw.proposals(env.bin))
    fake_openclaw.set_status(env.bin, wid, "rejected", "Not reusable here")

    report = workshop.reconcile(env.settings, env.api)

    assert report.rejected and report.ok, report
    ((pid, reason),) = env.api.rejected
    assert pid == "p1" and "Not reusable here" in (reason or "") and wid in (reason or "")
    assert env.record()["proposals"] == {}
    assert handover.handed_over(env.settings) == set()


def test_our_accept_and_reject_reach_the_workshop(env: Env) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    env.api.add("p2", "Other", {"other-skill/SKILL.md": NEW.replace(SKILL, "other-skill")})
    workshop.reconcile(env.settings, env.api)
    ids = {p["skillName"]: wid for wid, p in fake_openclaw.proposals(env.bin).items()}

    env.api.accept(env.settings.skills_dir, "p1")  # `acontext-mcp skills accept p1`
    done = workshop.follow_decision(env.settings, "p1", "accepted")
    assert done.applied and done.ok, done
    assert fake_openclaw.proposals(env.bin)[ids[SKILL]]["status"] == "applied"
    assert handover.handed_over(env.settings) == {SKILL}

    env.api.reject(env.settings.skills_dir, "p2", reason="wrong")  # not followed at once:
    report = workshop.reconcile(env.settings, env.api)  # the next reconcile finds it
    assert report.dismissed, report
    theirs = fake_openclaw.proposals(env.bin)[ids["other-skill"]]
    assert theirs["status"] == "rejected" and "rejected in acontext-mcp" in theirs["statusReason"]
    assert env.record()["proposals"] == {}
    assert workshop.follow_decision(env.settings, "p3", "accepted").to_dict()["applied"] == []


def test_a_changed_proposal_revises_a_stale_one_is_withdrawn_then_proposed_again(
    env: Env,
) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    workshop.reconcile(env.settings, env.api)
    wid, _ = _only(fake_openclaw.proposals(env.bin))

    env.api.contents["p1"][f"{SKILL}/SKILL.md"] = NEW + "v2\n"  # re-learned, still pending
    revised = workshop.reconcile(env.settings, env.api)
    assert revised.revised and not revised.submitted
    wid2, sent = _only(fake_openclaw.proposals(env.bin))
    assert wid2 == wid and sent["files"]["PROPOSAL.md"].endswith("v2\n")

    env.api.set_state("p1", "stale")  # the skill it was made from changed
    withdrawn = workshop.reconcile(env.settings, env.api)
    assert withdrawn.withdrawn and fake_openclaw.proposals(env.bin)[wid]["status"] == "rejected"

    env.api.contents["p1"][f"{SKILL}/SKILL.md"] = NEW + "v3\n"
    env.api.set_state("p1", "pending")  # rebased
    again = workshop.reconcile(env.settings, env.api)
    assert again.submitted
    live = [p for p in fake_openclaw.proposals(env.bin).values() if p["status"] == "pending"]
    assert len(live) == 1 and live[0]["files"]["PROPOSAL.md"].endswith("v3\n")

    # The Workshop marks it stale (its live skill changed): proposed again, not duplicated.
    fake_openclaw.set_status(env.bin, live[0]["id"], "stale")
    workshop.reconcile(env.settings, env.api)
    live = [p for p in fake_openclaw.proposals(env.bin).values() if p["status"] == "pending"]
    assert len(live) == 1 and live[0]["id"] != wid


def test_a_proposal_the_workshop_cannot_take_waits_for_our_accept(env: Env) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW, f"{SKILL}/notes.txt": "x\n"})
    env.api.add("p2", "Drop it", {"gone/SKILL.md": None})
    token = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
    env.api.add("p3", "Leaky", {"leaky/SKILL.md": NEW.replace(SKILL, "leaky") + token})
    _commit(env.settings, "linked", "Has a link. Use never.")
    (env.settings.skills_dir / "linked" / "scripts").mkdir()
    (env.settings.skills_dir / "linked" / "scripts" / "run.sh").symlink_to("/etc/passwd")
    env.api.add("p4", "Linked", {"linked/SKILL.md": NEW.replace(SKILL, "linked")})
    report = workshop.reconcile(env.settings, env.api)
    assert report.ok and len(report.waiting) == 4, report
    notes, gone, leaky, linked = report.waiting
    assert "notes.txt" in notes and "scripts" in notes and "accept it with acontext-mcp" in notes
    assert "removed" in gone
    assert "secret (github_token)" in leaky and token not in leaky
    assert "run.sh: a link" in linked
    assert fake_openclaw.proposals(env.bin) == {}
    assert token not in (env.settings.home / handover.STATE_FILE).read_text()

    env.api.add("p5", f"Runbook, token {token}", {f"{SKILL}/SKILL.md": NEW})  # in the subject
    assert workshop.reconcile(env.settings, env.api).submitted
    (sent,) = fake_openclaw.proposals(env.bin).values()
    assert token not in sent["description"] and token not in sent["evidence"]
    assert "[REDACTED:github_token]" in sent["description"]


# --- error paths: clear errors, nothing lost, sync goes on ---


def _sync_still_works(env: Env) -> None:
    _commit(env.settings, "plain-skill", "Plain. Use always.")
    reports = sync_all(env.settings, proposals=env.api)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    assert (env.state / "skills" / "plain-skill" / "SKILL.md").is_file()
    assert env.api.items["p1"].state == "pending"  # nothing decided, nothing lost


def test_without_an_openclaw_executable_proposals_wait(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = env.bin / "nope" / "openclaw"
    (env.settings.home / "config.json").write_text(
        json.dumps({"openclaw": {"command": str(missing)}})
    )
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    report = workshop.reconcile(env.settings, env.api)
    assert report.unavailable and str(missing) in report.unavailable
    assert "not used" in report.summary()
    _sync_still_works(env)

    (env.settings.home / "config.json").write_text("{}")  # and none on PATH either
    monkeypatch.setenv("PATH", str(env.bin / "empty"))
    found = workshop.detect(env.settings)
    assert isinstance(found, str) and "no `openclaw` on PATH" in found


def test_an_openclaw_without_workshop_or_turned_off_is_not_used(env: Env) -> None:
    fake_openclaw.steer(env.bin, version="OpenClaw 2026.5.2 (old)")
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    report = workshop.reconcile(env.settings, env.api)
    assert report.unavailable and "2026.5.2 has no Skill Workshop" in report.unavailable
    assert env.actions() == ["--version"]
    _sync_still_works(env)

    fake_openclaw.steer(env.bin, version="OpenClaw 2026.9.6")
    exe = env.bin / "openclaw"
    st = exe.stat()
    os.utime(exe, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # an upgrade: probed again
    assert isinstance(workshop.detect(env.settings), workshop.Workshop)
    assert env.actions().count("--version") == 2

    config = {"openclaw": {"command": str(exe), "workshop": False}}
    (env.settings.home / "config.json").write_text(json.dumps(config))
    assert "turned off" in (workshop.reconcile(env.settings, env.api).unavailable or "")


def test_a_failing_workshop_call_is_reported_and_retried_later(env: Env) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    failure = {"exit": 1, "stdout": json.dumps({"ok": False, "error": {"message": "disk on fire"}})}
    fake_openclaw.steer(env.bin, fail={"propose-create": failure})
    report = workshop.reconcile(env.settings, env.api)
    assert not report.ok
    assert "propose-create` failed (exit 1): disk on fire" in report.errors[0]
    assert "p1" in report.errors[0]
    assert env.record()["proposals"]["p1"]["skills"] == {}  # nothing recorded as sent
    _sync_still_works(env)

    fake_openclaw.steer(env.bin, fail={"propose-create": {"exit": 3, "stderr": "boom\n"}})
    assert "(exit 3): boom" in workshop.reconcile(env.settings, env.api).errors[0]

    fake_openclaw.steer(env.bin, fail={})
    fixed = workshop.reconcile(env.settings, env.api)
    assert fixed.ok and fixed.submitted
    assert len(fake_openclaw.proposals(env.bin)) == 1


def test_garbage_output_is_a_clear_error(env: Env) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    fake_openclaw.steer(env.bin, fail={"propose-create": {"exit": 0, "stdout": "hello there"}})
    report = workshop.reconcile(env.settings, env.api)
    assert "printed no JSON answer (hello there)" in report.errors[0], report
    assert fake_openclaw.proposals(env.bin) == {}

    fake_openclaw.steer(env.bin, fail={"list": {"exit": 0, "stdout": "[1, 2]"}}, version="x")
    exe = env.bin / "openclaw"
    st = exe.stat()
    os.utime(exe, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    odd = workshop.reconcile(env.settings, env.api)
    assert odd.unavailable and "not an OpenClaw version" in odd.unavailable
    _sync_still_works(env)


def test_a_broken_state_file_is_refused_not_overwritten(env: Env) -> None:
    env.api.add("p1", "Runbook", {f"{SKILL}/SKILL.md": NEW})
    path = env.settings.home / handover.STATE_FILE
    path.write_text("{not json")
    report = workshop.reconcile(env.settings, env.api)
    assert "move it away to start over" in report.errors[0]
    assert path.read_text() == "{not json"
    assert handover.handed_over(env.settings) == set()
    assert fake_openclaw.proposals(env.bin) == {}
    _sync_still_works(env)
    assert path.read_text() == "{not json"


def test_a_description_fits_the_workshop_limit() -> None:
    text = workshop._description("Läuft überall — " * 40)
    assert len(text.encode("utf-8")) <= workshop.MAX_DESCRIPTION_BYTES and text.endswith("…")
    assert workshop._description("  ") == "Learned by acontext-mcp"


def test_parse_version() -> None:
    assert workshop.parse_version("OpenClaw 2026.9.6 (eb377ac)") == (2026, 9, 6)
    assert workshop.parse_version("v1") is None


def test_the_session_start_sync_leaves_handed_over_skills_to_the_workshop(env: Env) -> None:
    from acontext_mcp.hooks.skill_sync import sync_agent_skills

    _commit(env.settings, SKILL, "Runbook. Use when releasing.")
    _commit(env.settings, "plain-skill", "Plain. Use always.")
    held = {SKILL: {"proposal": "w1", "version": "v", "skill_dir": None}}
    side = {"proposals": {}, "handed_over": held}
    data = {"version": 1, "probe": {}, "openclaw": {str(env.state): side}}
    (env.settings.home / handover.STATE_FILE).write_text(json.dumps(data))

    synced = sync_agent_skills(env.settings)

    assert synced.changed
    assert sorted(p.name for p in (env.state / "skills").iterdir()) == ["plain-skill"]
    claude = env.settings.home.parent / "claude" / "skills"
    assert {SKILL, "plain-skill"} <= {p.name for p in claude.iterdir()}
    assert fake_openclaw.calls(env.bin) == []  # no openclaw process from a hook

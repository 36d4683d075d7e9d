"""Real OpenClaw lists a skill from our skills repository, synced by our plugin's hook.

A skill is committed to the skills repository the way the learner commits one, beside a
second skill whose name a foreign folder already holds in OpenClaw's skills folder. Then two
`openclaw agent --local` runs (one session) go through our plugin, a temp HOME,
OPENCLAW_STATE_DIR and CLAUDE_CONFIG_DIR, against the scripted model on loopback:

1. run 1: `before_prompt_build` (our plugin's hook) copies the skill into
   `<state>/skills/<name>/` and records it in our sync manifest; the foreign folder is a clash,
   left byte for byte as it was. OpenClaw does NOT list the new skill to the model in this
   run: 2026.9.6 resolves the run's skills snapshot (agent-command, before the attempt)
   before `before_prompt_build` fires. Only our own brief names it in run 1;
2. run 2 (a new process, same session): OpenClaw lists it. Each process starts a new skills
   snapshot version (`Date.now()` at load), so the session's stored snapshot is rebuilt
   from the folders as they are now.

Where 2026.9.6 lists skills: in the system prompt (`messages[0]`, role "system"), section
"## Skills", whose catalog is an `<available_skills>` XML block with one
`<skill><name>..</name><description>..</description><location>..</location></skill>` per
skill (XML-escaped; a description over 220 characters is cut). Our brief, appended later in
the same system prompt, also lists learned skills, so only the catalog block counts here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.model_server import model_server
from test_claude_code_skills import commit_skill
from test_openclaw import ACONTEXT_MCP, MODEL, Workspace, _config, _requests, _timed

from acontext_mcp.config import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # the first run may npm install

SKILL = "quokka-release-runbook"
DESCRIPTION = "Quokka-tango release runbook for the ledger service. Use when asked to release."
CLASH = "flaky-test-triage"  # ours, and a foreign folder of that name is already there
OUR_CLASH_DESCRIPTION = "Acontext's own flaky-test triage steps. Use when a test flakes."
FOREIGN_DESCRIPTION = "Hand-kept triage notes of the user, not from acontext."
PLUGIN_SKILL = "acontext-memory"  # shipped in plugins/openclaw/skills
CATALOG = re.compile(r"<available_skills>\n(.*?)</available_skills>", re.S)
ENTRY = re.compile(
    r"<skill>\s*<name>(?P<name>.*?)</name>\s*"
    r"(?:<description>(?P<description>.*?)</description>\s*)?"
    r"<location>(?P<location>.*?)</location>",
    re.S,
)


@pytest.fixture
def model(tmp_path: Path) -> Iterator[Path]:
    """The scripted model, answering every request with text; yields its request log."""
    log, port_file = tmp_path / "model.jsonl", tmp_path / "model.port"
    args = ["--log", str(log), "--script", "[]", "--final-text", "FAKE-DONE"]
    with model_server(MODEL, port_file, *args):
        yield log


def available_skills(system_prompt: str) -> dict[str, dict[str, str]]:
    """OpenClaw's (2026.9.6) skill catalog in a system prompt: name -> {description,
    location}, from its `<available_skills>` block ({} when there is none)."""
    found = CATALOG.search(system_prompt)
    if found is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    for entry in ENTRY.finditer(found.group(1)):
        name = html.unescape(entry["name"])
        assert name not in out, f"{name} listed twice"
        out[name] = {
            "description": html.unescape(entry["description"] or ""),
            "location": html.unescape(entry["location"]),
        }
    return out


def _files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `folder`: relative path -> (content, mtime_ns)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _system_prompts(log: Path, start: int) -> list[str]:
    """The system prompt of every request from the `start`-th on."""
    prompts = []
    for body in _requests(log)[start:]:
        system = body["messages"][0]
        assert system["role"] == "system", system
        prompts.append(system["content"])
    assert prompts, "no model request in this run"
    return prompts


def test_a_committed_skill_is_synced_by_the_hook_and_listed_from_the_next_run(
    openclaw: Any, model: Path, tmp_path: Path
) -> None:
    from acontext_mcp.skills.sync import manifest_path_for

    work = tmp_path.resolve() / "oc"
    for name in ("home", "state", "project", "claude-config"):
        (work / name).mkdir(parents=True)
    store = tmp_path.resolve() / "store"
    config = _config(work, (tmp_path / "model.port").read_text(), store)
    # What `openclaw mcp set acontext` writes (see test_openclaw.py), without the extra process.
    server = {"command": str(ACONTEXT_MCP), "args": ["serve"], "env": {"ACONTEXT_HOME": str(store)}}
    config["mcp"] = {"servers": {"acontext": server}}
    (work / "openclaw.json").write_text(json.dumps(config, indent=1))
    ws = Workspace(openclaw, work, store)
    ws.env["CLAUDE_CONFIG_DIR"] = str(work / "claude-config")  # the sync writes there too

    settings = Settings(home=store, skills_dir=store / "skills")  # what the hook will use
    source = commit_skill(
        settings.skills_dir, SKILL, DESCRIPTION, files={"scripts/release.sh": "x\n"}
    )
    commit_skill(settings.skills_dir, CLASH, OUR_CLASH_DESCRIPTION, task_id=2)
    target = work / "state" / "skills"
    foreign = target / CLASH
    (foreign / "notes").mkdir(parents=True)
    (foreign / "SKILL.md").write_text(
        f"---\nname: {CLASH}\ndescription: {FOREIGN_DESCRIPTION}\n---\n# Mine\n\nDo not touch.\n"
    )
    (foreign / "notes" / "history.txt").write_text("kept by hand\n")
    foreign_before = _files(foreign)
    location = str(target / SKILL / "SKILL.md")

    # Run 1: the hook syncs the skill, but OpenClaw built this run's catalog before.
    first = _timed(openclaw.timings, "agent --local, skills run 1 (hook syncs)", ws.agent, "hi")
    assert first["payloads"][0]["text"] == "FAKE-DONE"
    for rel in ("SKILL.md", "scripts/release.sh"):
        assert (target / SKILL / rel).read_bytes() == (source / rel).read_bytes(), rel
    manifest = json.loads(manifest_path_for(settings, target).read_text())
    assert manifest["target"] == str(target)
    assert set(manifest["skills"]) == {SKILL}  # the clash is not ours
    assert set(manifest["skills"][SKILL]["files"]) == {"SKILL.md", "scripts/release.sh"}
    assert _files(foreign) == foreign_before  # the foreign folder is untouched
    assert sorted(p.name for p in target.iterdir()) == sorted([CLASH, SKILL])  # no leftovers

    (system,) = _system_prompts(model, 0)
    listed = available_skills(system)
    assert PLUGIN_SKILL in listed, system[:3000]  # the parse found OpenClaw's catalog
    assert SKILL not in listed, (
        "OpenClaw now lists a skill synced by before_prompt_build in the same run: "
        "assert that instead of waiting for run 2"
    )
    assert listed[CLASH] == {
        "description": FOREIGN_DESCRIPTION,
        "location": str(foreign / "SKILL.md"),
    }
    # Run 1's model hears of the skill only through our brief, after the catalog.
    assert f"- {SKILL}: {DESCRIPTION}" in system[system.index("</available_skills>") :]

    # Run 2: same session, a new process; OpenClaw lists the synced skill.
    seen = len(_requests(model))
    second = _timed(openclaw.timings, "agent --local, skills run 2 (listed)", ws.agent, "again")
    assert second["meta"]["agentMeta"]["sessionId"] == first["meta"]["agentMeta"]["sessionId"]
    for system in _system_prompts(model, seen):
        listed = available_skills(system)
        assert listed.get(SKILL) == {"description": DESCRIPTION, "location": location}, listed
        assert listed[CLASH]["description"] == FOREIGN_DESCRIPTION  # still the foreign one
        catalog = system[system.index("<available_skills>") : system.index("</available_skills>")]
        assert OUR_CLASH_DESCRIPTION not in catalog
        assert system.index("## Skills") < system.index("<available_skills>")
    reported = [e["name"] for e in second["meta"]["systemPromptReport"]["skills"]["entries"]]
    assert SKILL in reported and CLASH in reported, reported
    assert _files(foreign) == foreign_before
    assert (work / "claude-config" / "skills" / SKILL / "SKILL.md").is_file()
    assert not (work / "home" / ".openclaw").exists()  # OPENCLAW_STATE_DIR was honoured

    log = (settings.logs_dir / "hooks.log").read_text().splitlines()
    assert not [x for x in log if " failed" in x or "error" in x], log
    synced = [x for x in log if f"skill sync: {target}:" in x]
    assert len(synced) == 2, log  # once per run: OpenClaw's folder holds a clash each time
    assert "1 written" in synced[0] and "1 unchanged" in synced[1], synced
    assert all(f"1 clash ({CLASH})" in x for x in synced), synced
    assert sum(" openclaw before_prompt_build ok " in x for x in log) == 2, log

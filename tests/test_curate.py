"""The curator (learn/curate.py, skills/tidy.py) on a real skills git repository: planted
duplicates, contradictions, oversize files, legacy day logs and near-duplicate skills are
found and fixed, nothing else is touched; commits carry trailers naming what went and why;
the review policy decides commit or proposal; the model compacts only within its budget."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import git
import pytest
from support.curate_repo import build
from support.fake_llm import FakeLLM, openai_reply

from acontext_mcp import user_config
from acontext_mcp.config import Settings
from acontext_mcp.learn import curate, entries, pipeline
from acontext_mcp.learn.review import save_policy
from acontext_mcp.learn.workspace import SkillWorkspace
from acontext_mcp.skills import proposals, repo, tidy
from acontext_mcp.skills.defaults import prepare
from acontext_mcp.skills.evidence import Entry
from acontext_mcp.store import usage

BIN = Path(sys.executable).parent / "acontext-mcp"


@pytest.fixture(autouse=True)
def sync_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "no-openclaw"))


def planted_repo(settings: Settings, **kw: int):
    prepare(settings)
    found = build(settings.skills_dir, **kw)
    repo.commit_learning(settings.skills_dir, "setup", session_id=None, task_id=None, paths=["."])
    return found


def files(settings: Settings) -> set[str]:
    out = git.Repo(settings.skills_dir).git.ls_files()
    return set(out.splitlines())


def read(settings: Settings, rel: str) -> str:
    return (settings.skills_dir / rel).read_text(encoding="utf-8")


def test_planted_cases_are_found_and_fixed_and_nothing_else_is_touched(settings, accept_all):
    planted = planted_repo(settings, skills=20, days=40)
    before = {rel: read(settings, rel) for rel in files(settings)}

    out = curate.curate(settings)

    by_kind: dict[str, set[tuple[str, str]]] = {}
    for c in out["changes"]:
        by_kind.setdefault(c["kind"], set()).add((c["path"], c.get("line", "")))
    # Recall and precision on the entries: exactly the planted lines went.
    assert by_kind["merged"] == planted.merged
    assert by_kind["superseded"] == planted.superseded
    assert by_kind["archived"] <= planted.archivable and by_kind["archived"]
    assert {p for p, _ in by_kind["rolled-up"]} == planted.day_files
    assert set(out["counts"]) == {"merged", "superseded", "archived", "rolled-up"}
    # The merged entry adds up the evidence of both.
    for rel, line in planted.merged:
        text = read(settings, rel)
        assert line not in text
        # The older copy's first day survives the merge, and its sighting is counted.
        (kept,) = [e for e in tidy.entries_of(text) if e.first == "2025-12-02"]
        gone = tidy.entries_of(line)[0]
        assert kept.seen == gone.seen + (3 if kept.title.startswith("Build") else 2)
    for rel, line in planted.superseded:
        assert line not in read(settings, rel)
        assert "Never run" in read(settings, rel)
    # Oversize files are under budget now, their verified entries all still there; the
    # archived entries are in archive/<path>, not lost.
    for rel in planted.oversize:
        text = read(settings, rel)
        assert tidy.size(text) <= curate.DEFAULT_CURATE_FILE_BYTES
        assert all(line in text for r, line in planted.kept if r == rel)
        skill, path = rel.split("/", 1)
        archive = read(settings, f"{skill}/archive/{path}")
        assert all(line in archive for r, line in by_kind["archived"] if r == rel)
    assert not out["oversize"]
    # Daily logs: one file per month now, every day kept.
    logs = sorted(f for f in files(settings) if f.startswith("daily-logs/logs/"))
    assert logs == ["daily-logs/logs/2026-01.md", "daily-logs/logs/2026-02.md"]
    january = read(settings, logs[0])
    assert january.count("\n## 2026-01-") == 31 and "### Task 0\nThe user fixed thing 0." in january
    # Every other file is byte for byte what it was (user lines, near misses, other skills).
    touched = {p for p, _ in planted.merged | planted.superseded} | planted.oversize
    touched |= planted.day_files
    for rel, text in before.items():
        if rel not in touched:
            assert read(settings, rel) == text, rel
    for rel in touched - planted.day_files:
        assert "- a line the user wrote by hand, never touched" in read(settings, rel)
    # The near-duplicate skills: one proposal each, to merge one into the other.
    merges = {frozenset({m["from"], m["into"]}) for m in out["skill_merges"]}
    assert merges == planted.similar
    assert all(m["proposal"] for m in out["skill_merges"])


def test_the_commit_names_what_went_the_line_replacing_it_and_their_dates(settings, accept_all):
    planted = planted_repo(settings, skills=4, days=0)
    out = curate.curate(settings)
    commit = git.Repo(settings.skills_dir).commit(out["commit"])
    message = commit.message
    assert commit.author.name == "acontext-mcp"
    assert "Acontext-Kind: curation" in message
    ((rel, old),) = planted.superseded
    (trailer,) = [ln for ln in message.splitlines() if ln.startswith("Acontext-Superseded: ")]
    found = tidy.entries_of(read(settings, rel))
    newer = next(e for e in found if e.title.startswith("Never run"))
    assert old in trailer and newer.line in trailer
    assert f"{last_day(old)} statement contradicted by the newer one of {newer.last}" in trailer
    merged = [ln for ln in message.splitlines() if ln.startswith("Acontext-Merged: ")]
    assert len(merged) == len(planted.merged) == 2
    for _, line in planted.merged:
        (said,) = [m for m in merged if line in m]
        assert said.endswith(("(same title)", "(near-identical text)"))
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True
    ).stdout
    assert "Acontext-Superseded: " in parsed and "Acontext-Kind: curation" in parsed
    assert repo.log(settings.skills_dir, limit=1)[0]["kind"] == "curation"


def last_day(line: str) -> str:
    found = tidy.entries_of(line)
    return found[0].last


def test_dry_run_writes_nothing(settings, accept_all):
    planted_repo(settings, skills=4, days=3)
    head = git.Repo(settings.skills_dir).head.commit.hexsha
    before = {rel: read(settings, rel) for rel in files(settings)}
    out = curate.curate(settings, dry_run=True)
    assert out["dry_run"] and out["counts"]["merged"] == 2 and out["counts"]["rolled-up"] == 3
    assert git.Repo(settings.skills_dir).head.commit.hexsha == head
    assert {rel: read(settings, rel) for rel in files(settings)} == before
    assert proposals.list_proposals(settings.skills_dir) == []
    assert not git.Repo(settings.skills_dir).is_dirty(untracked_files=True)


def test_manual_review_makes_the_pass_one_proposal_and_not_twice(settings):
    planted_repo(settings, skills=4, days=0)
    save_policy(settings, "manual")
    head = git.Repo(settings.skills_dir).head.commit.hexsha
    out = curate.curate(settings)
    assert out["commit"] is None and out["proposal"]
    assert git.Repo(settings.skills_dir).head.commit.hexsha == head
    found = proposals.get(settings.skills_dir, out["proposal"])
    assert found.subject.startswith("Curate skills:")
    again = curate.curate(settings)
    assert again["waiting"] == out["proposal"] and again.get("proposal") is None
    pending = [
        p for p in proposals.list_proposals(settings.skills_dir) if " merge " not in p.subject
    ]
    assert [p.id for p in pending] == [out["proposal"]]


def test_accepting_a_skill_merge_leaves_one_skill_with_both_contents(settings, accept_all):
    planted = planted_repo(settings, skills=5, days=0)
    out = curate.curate(settings)
    (merge,) = out["skill_merges"]
    assert frozenset({merge["from"], merge["into"]}) in planted.similar
    proposals.accept(settings.skills_dir, merge["proposal"])
    src, into = merge["from"], merge["into"]
    assert not (settings.skills_dir / src).exists()
    skill_md = read(settings, f"{into}/SKILL.md")
    assert f"Merged from the `{src}` skill: see `{src}.md`." in skill_md
    assert (settings.skills_dir / into / f"{src}.md").is_file()
    # The next pass proposes it no more.
    assert curate.curate(settings)["skill_merges"] == []


def test_a_file_at_100_kb_takes_edits_again_after_curation(settings, accept_all):
    prepare(settings)
    root = settings.skills_dir
    old = [
        Entry(f"Old note {i}", f"step {i} of the retired deploy " + "x" * 300, [], 1, 0,
              "2025-01-01", "2025-01-01").render()
        for i in range(300)
    ]  # fmt: skip
    fresh = Entry("Deploy", "`make ship` from the root", [], 3, 3, "2026-11-01", "2026-11-02")
    rel = "project-runbooks/projects/shop.md"
    (root / rel).parent.mkdir(parents=True)
    text = "# shop\n\n## Deploy\n" + fresh.render() + "\n\n## Traps\n" + "\n".join(old) + "\n"
    (root / rel).write_text(text)
    assert tidy.size(text) > 100_000
    repo.commit_learning(root, "big", session_id=None, task_id=None, paths=[rel])
    lesson = entries.Lesson("trap", "project-runbooks", "projects/shop.md", "Slow CI", "wait")

    def add() -> str:
        ws = SkillWorkspace(root)
        done, problem = entries.write_lesson(ws, lesson, day="2026-12-01", verified=True)
        return done if problem is None else f"{done}: {problem}"

    assert add().startswith("refused:") and "100000 bytes" in add()
    curate.curate(settings)
    assert tidy.size(read(settings, rel)) <= curate.DEFAULT_CURATE_FILE_BYTES
    assert fresh.render() in read(settings, rel)
    assert add() == "added"


def test_daily_logs_live_past_200_days(settings):
    prepare(settings)
    ws = SkillWorkspace(settings.skills_dir)
    for d in range(400):
        day = f"{2026 + d // 360}-{(d // 30) % 12 + 1:02d}-{d % 30 + 1:02d}"
        assert entries.write_log(ws, day, f"Task {d}", f"Did {d}.") is None
    assert ws.problems() == {}
    logs = [f for f in ws.files("daily-logs") if f.startswith("logs/")]
    assert len(logs) == 14 and "logs/2027-02.md" in logs
    march = ws.read_text("daily-logs", "logs/2026-03.md") or ""
    assert march.startswith("# 2026-03\n\n## 2026-03-01\n\n### Task 60\nDid 60.\n")


def test_skill_md_over_its_token_budget_moves_learned_entries_to_notes(settings, accept_all):
    prepare(settings)
    root = settings.skills_dir
    user_config.update(settings, "learning", {"accept": "auto", "curate_skill_tokens": 800})
    lines = [
        Entry(f"Rule {i}", " ".join(f"w{i}x{k}" for k in range(30)), [], 1, 1 if i < 3 else 0,
              "2026-01-01", f"2026-01-{i + 1:02d}").render()
        for i in range(10)
    ]  # fmt: skip
    md = root / "user-general-facts" / "SKILL.md"
    md.write_text(md.read_text() + "\n## Learned\n" + "\n".join(lines) + "\n")
    repo.commit_learning(root, "grow", session_id=None, task_id=None, paths=["."])
    out = curate.curate(settings)
    text = read(settings, "user-general-facts/SKILL.md")
    assert curate.tokens(text) < 800 - 50 and curate.NOTES_POINTER in text
    notes = read(settings, "user-general-facts/notes.md")
    moved = [c["line"] for c in out["changes"] if c["kind"] == "moved"]
    assert moved and all(line in notes and line not in text for line in moved)
    assert all(lines[i] in text for i in range(3))  # the verified ones stay, they go last
    # The defaults without entries that are still over budget are only reported.
    assert {s["skill"] for s in out["skill_budget"]} <= {"project-runbooks", "daily-logs"}


def test_after_every_n_learnings_the_worker_curates(settings, accept_all):
    planted_repo(settings, skills=4, days=0)  # two learning commits: the defaults, the setup
    user_config.update(settings, "learning", {"accept": "auto", "curate_every": 3})
    root = settings.skills_dir

    def learn(name: str) -> None:
        (root / "user-general-facts" / f"{name}.md").write_text(f"# {name}\n")
        repo.commit_learning(root, name, session_id=None, task_id=None, paths=["."])

    assert curate.due(settings) is False
    assert "curate" not in pipeline.after_learning(settings, [])
    learn("t1")
    assert curate.due(settings) is True
    done = pipeline.after_learning(settings, [])
    assert done["curate"]["commit"] and done["curate"]["counts"]["merged"] == 2
    assert done["index"]  # the curated skills are indexed again
    assert curate.due(settings) is False
    for name in ("t2", "t3"):
        learn(name)
    assert curate.due(settings) is False
    learn("t4")
    assert pipeline.after_learning(settings, [])["curate"]["counts"] == {}
    assert curate.due(settings) is False


def test_oversize_file_is_compacted_by_the_model_within_its_token_budget(
    settings, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
):
    prepare(settings)
    root = settings.skills_dir
    user_config.update(settings, "learning", {"curate_llm": True, "curate_llm_tokens": 30_000})
    keep = [
        Entry(f"Verified rule {i}", f"{i} " + "detail " * 40, [], 2, 2, "2026-01-01",
              "2026-02-01").render()
        for i in range(60)
    ]  # fmt: skip
    rel = "project-runbooks/projects/api.md"
    (root / rel).parent.mkdir(parents=True)
    text = "# api\n\n## Test\n" + "\n".join(keep) + "\n- the user's own line\n"
    (root / rel).write_text(text)
    repo.commit_learning(root, "big", session_id=None, task_id=None, paths=[rel])
    short = "# api\n\n## Test\n" + "\n".join(keep[:5]) + "\n- the user's own line\n"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeLLM() as fake:
        fake.add(openai_reply(calls=[("write_compacted", {"content": short})], usage=(900, 300)))
        chosen = settings.replace(
            llm_provider="openai", llm_base_url=fake.url + "/v1", llm_model="m"
        )
        out = curate.curate(chosen, conn=db)
        assert len(fake.received) == 1
        sent = json.dumps(fake.received[0]["body"])
        assert "Verified rule 59" in sent
    assert out["llm"] == {"calls": 1, "input_tokens": 900, "output_tokens": 300}
    (call,) = usage.calls(db)
    assert call["purpose"] == "curate" and call["input_tokens"] == 900
    # Model-written text under the default `verified` policy waits for review.
    assert out["commit"] is None and out["proposal"]
    assert read(settings, rel) == text
    found = proposals.proposal_diff(settings.skills_dir, out["proposal"])
    assert "-" + keep[59] in found


def test_the_model_is_not_called_past_the_token_budget_nor_trusted_blindly(settings, db):
    prepare(settings)
    root = settings.skills_dir
    rel = "project-runbooks/projects/api.md"
    (root / rel).parent.mkdir(parents=True)
    keep = [
        Entry(f"Rule {i}", "detail " * 60, [], 2, 2, "2026-01-01", "2026-02-01").render()
        for i in range(60)
    ]
    (root / rel).write_text("# api\n\n## Test\n" + "\n".join(keep) + "\n")
    repo.commit_learning(root, "big", session_id=None, task_id=None, paths=[rel])
    user_config.update(settings, "learning", {"curate_llm": True, "curate_llm_tokens": 1000})
    with FakeLLM() as fake:
        chosen = settings.replace(
            llm_provider="openai", llm_base_url=fake.url + "/v1", llm_model="m"
        )
        out = curate.curate(chosen, conn=db)
        assert fake.received == []
    (item,) = out["oversize"]
    assert item["llm"].startswith("skipped: needs ~") and out["llm"]["calls"] == 0
    old = read(settings, rel)
    raised = old.replace("seen 2×", "seen 9×", 1).replace("detail detail ", "detail ")
    assert "evidence counts raised" in (curate.acceptable(old, raised, 16_384) or "")
    assert "heading dropped" in (curate.acceptable(old, "- **A**: b (seen 1×, 2026-01-01)\n",
                                                   16_384) or "")  # fmt: skip


def test_settings_that_cannot_be_used_fall_back_to_the_defaults(settings):
    user_config.update(
        settings, "learning", {"curate_every": -1, "curate_file_bytes": "big", "curate_llm": 1}
    )
    assert curate.options(settings) == curate.Options()
    user_config.update(settings, "learning", {"curate_every": 0, "curate_file_bytes": 4096})
    found = curate.options(settings)
    assert found.every == 0 and found.file_bytes == 4096
    assert curate.due(settings) is False  # 0: only `skills curate`


def test_cli_curate_dry_run_and_json(settings, tmp_path):
    planted_repo(settings, skills=4, days=2)
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path / "user"),
        "ACONTEXT_HOME": str(settings.home),
        "ACONTEXT_SKILLS_DIR": str(settings.skills_dir),
        "ACONTEXT_WORKER": "off",
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude-config"),
        "OPENCLAW_STATE_DIR": str(tmp_path / "no-openclaw"),
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(BIN), "skills", "curate", *args], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    text = run("--dry-run")
    assert "superseded" in text and "rolled-up" in text and "dry run: nothing was changed" in text
    found = json.loads(run("--json"))
    # The default `verified` policy commits the deterministic pass (it only merges, moves and
    # drops what learning wrote).
    assert found["commit"] and found["proposal"] is None and found["counts"]["rolled-up"] == 2
    assert "nothing to curate" in run() or "similar" in run()


def test_an_archive_that_fills_up_continues_in_a_new_file(settings, accept_all, monkeypatch):
    monkeypatch.setattr(curate, "ARCHIVE_BYTES", 6000)
    prepare(settings)
    root = settings.skills_dir
    rel = "project-runbooks/projects/shop.md"
    (root / rel).parent.mkdir(parents=True)
    fresh = Entry("Deploy", "`make ship`", [], 3, 3, "2026-11-01", "2026-11-02").render()
    archived = 0
    for rnd in range(2):
        old = [
            Entry(f"Old {rnd} {i}", f"retired step {rnd} {i} " + "y" * 200, [], 1, 0,
                  "2025-01-01", "2025-01-01").render()
            for i in range(100)
        ]  # fmt: skip
        text = "# shop\n\n## Deploy\n" + fresh + "\n\n## Traps\n" + "\n".join(old)
        (root / rel).write_text(text)
        repo.commit_learning(root, f"big {rnd}", session_id=None, task_id=None, paths=[rel])
        archived += curate.curate(settings)["counts"]["archived"]
    first = read(settings, "project-runbooks/archive/projects/shop.md")
    second = read(settings, "project-runbooks/archive/projects/shop-2.md")
    assert "- **Old 0 " in first and "- **Old 1 " not in first  # it was full: ...
    assert "- **Old 1 " in second and "- **Old 0 " not in second  # ... the next one took them
    assert first.count("- **Old ") + second.count("- **Old ") == archived


def test_a_busy_month_continues_in_a_second_file_before_edits_are_refused(settings, monkeypatch):
    monkeypatch.setattr(tidy, "LOG_FILE_BYTES", 2000)
    prepare(settings)
    ws = SkillWorkspace(settings.skills_dir)
    for n in range(40):
        assert entries.write_log(ws, f"2026-03-{n % 28 + 1:02d}", f"Task {n}", "x" * 60) is None
    assert entries.write_log(ws, "2026-03-01", "Task 0", "x" * 60) is None  # once only
    logs = [f for f in ws.files("daily-logs") if f.startswith("logs/")]
    assert {"logs/2026-03.md", "logs/2026-03-part2.md"} <= set(logs)
    texts = [ws.read_text("daily-logs", f) or "" for f in logs]
    assert all(tidy.size(t) <= 2000 for t in texts)
    assert sum(t.count("### Task ") for t in texts) == 40
    assert ws.problems() == {}

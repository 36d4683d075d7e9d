"""The FTS5 index of skill files: build, incremental refresh, ranking, safe queries."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.skills import index, terms, watch


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_skill(root: Path, name: str, description: str, body: str, files: dict) -> Path:
    folder = root / name
    write(folder / "SKILL.md", f"---\nname: {name}\ndescription: {description}\n---\n{body}")
    for rel, text in files.items():
        write(folder / rel, text)
    return folder


@pytest.fixture
def skills(settings: Settings) -> Path:
    root = settings.skills_dir
    make_skill(
        root,
        "deploy-notes",
        "How this team deploys with fly.io; use before a release",
        "# Deploy\nRun the release checklist.\n",
        {"runbook/staging.md": "Staging uses `fly deploy --strategy rolling` after migrations.\n"},
    )
    make_skill(
        root,
        "pytest-flaky",
        "Fix flaky pytest runs; use when tests fail at random",
        "# Flaky tests\nRerun with `-p no:randomly` to check ordering.\n",
        {"scripts/rerun.py": "print('rerun the failing tests')\n"},
    )
    make_skill(
        root,
        "kitchen-sink",
        "Misc notes",
        "Nothing about shipping here.\n",
        {
            "notes/ops.md": "Once we talked about deploy keys; rotate them every quarter.\n",
            "notes/cafe.md": "Le café est prêt à Zürich. 日本語のメモ: デプロイ\n",
        },
    )
    (root / ".git").mkdir()
    write(root / ".git" / "config.md", "deploy deploy deploy")  # hidden: never indexed
    write(root / "not-a-skill" / "readme.md", "deploy")  # no SKILL.md: not a skill
    return root


def names(hits: list[dict]) -> list[tuple[str, str]]:
    return [(h["name"], h["path"]) for h in hits]


def test_build_indexes_text_files_of_skills_only(settings: Settings, skills: Path) -> None:
    (skills / "pytest-flaky" / "blob.png").write_bytes(b"\x89PNG\0\0deploy")
    (skills / "pytest-flaky" / "data.md").write_bytes(b"deploy\0\0binary")
    stats = index.refresh(settings)
    assert stats == {"files": 7, "skills": 3, "added": 7, "updated": 0, "removed": 0}
    assert index.index_path(settings) == settings.home / "skills-index.db"
    assert index.index_path(settings) != settings.db_path
    assert index.refresh(settings) == {**stats, "added": 0}


def test_finds_by_name_description_and_content(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    assert names(index.search(settings, "pytest-flaky"))[0] == ("pytest-flaky", "SKILL.md")
    assert names(index.search(settings, "fly.io"))[0] == ("deploy-notes", "SKILL.md")
    hits = index.search(settings, "rolling strategy")
    assert names(hits) == [("deploy-notes", "runbook/staging.md")]
    assert hits[0]["description"].startswith("How this team deploys")
    assert "**rolling**" in hits[0]["snippet"]
    # stemmed: "failing" is also the description's "fail", which weighs more than the script
    failing = names(index.search(settings, "failing"))
    assert failing == [("pytest-flaky", "SKILL.md"), ("pytest-flaky", "scripts/rerun.py")]


def test_name_and_description_outrank_content(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    hits = index.search(settings, "deploy")
    assert [h["name"] for h in hits][:1] == ["deploy-notes"]
    assert ("kitchen-sink", "notes/ops.md") in names(hits)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert index.search(settings, "deploy", limit=1)[0]["path"] == "SKILL.md"


def test_any_word_matches_and_more_words_rank_higher(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    assert names(index.search(settings, "rotate zzyzx")) == [("kitchen-sink", "notes/ops.md")]
    assert index.search(settings, "zzyzx") == []
    # "rerun" is in two files of pytest-flaky; only SKILL.md also says "ordering"
    hits = names(index.search(settings, "rerun ordering"))
    assert hits[0] == ("pytest-flaky", "SKILL.md")
    assert ("pytest-flaky", "scripts/rerun.py") in hits[1:]


def test_stemming_finds_other_forms_of_a_word(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    hits = index.search(settings, "rotating keys")  # the file says "rotate" and "keys"
    assert names(hits)[0] == ("kitchen-sink", "notes/ops.md")
    assert "**rotate**" in hits[0]["snippet"]  # snippets mark the stemmed match
    assert names(index.search(settings, "deployed"))[0] == ("deploy-notes", "SKILL.md")


def test_stop_words_do_not_flood_the_results(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    # every file holds "the", "to" or "we": they must not make every file a hit
    hits = names(index.search(settings, "how do we rotate the keys"))
    assert hits == [("kitchen-sink", "notes/ops.md")]
    assert index.fts_query("how do I run the tests", any_term=True) == '"run" OR "tests"'
    assert index.fts_query("how do I") == '"how" AND "do" AND "i"'  # nothing else: keep them


def test_a_diary_day_ranks_below_a_procedure(settings: Settings, skills: Path) -> None:
    make_skill(
        skills,
        "daily-logs",
        "What the user did each day",
        "# Daily logs\n",
        {"logs/2026-12-02.md": "# 2026-12-02\n\n## Deploy\n\nRan fly deploy for staging.\n"},
    )
    make_skill(skills, "journal", "Notes", "# Journal\n", {"2026-11.md": "fly deploy staging\n"})
    index.refresh(settings)
    hits = names(index.search(settings, "how do I fly deploy to staging"))
    assert hits[0] == ("deploy-notes", "runbook/staging.md")
    procedure = hits.index(("deploy-notes", "SKILL.md"))
    assert hits.index(("daily-logs", "logs/2026-12-02.md")) > procedure
    assert hits.index(("journal", "2026-11.md")) > procedure
    assert index.rank_factor("daily-logs/SKILL.md") == 1.0
    assert index.rank_factor("journal/notes/2026-11-02-standup.md") == index.DIARY_FACTOR
    assert index.rank_factor("deploy-notes/runbook/2026-plan.md") == 1.0
    # a query naming the day asks for the diary
    dated = names(index.search(settings, "what did we deploy on 2026-12-02"))
    assert dated[0] == ("daily-logs", "logs/2026-12-02.md")


def test_changed_and_removed_files_are_followed(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    ops = skills / "kitchen-sink" / "notes" / "ops.md"
    ops.write_text("Now about kubernetes ingress only.\n")
    os.utime(ops, ns=(1, 1))  # a different mtime even on coarse clocks
    skill_md = skills / "pytest-flaky" / "SKILL.md"
    skill_md.write_text("---\nname: pytest-flaky\ndescription: Quarantine unstable suites\n---\n")
    (skills / "deploy-notes" / "runbook" / "staging.md").unlink()
    stats = index.refresh(settings)
    assert (stats["updated"], stats["removed"], stats["added"]) == (2, 1, 0)
    assert index.search(settings, "rolling") == []
    assert names(index.search(settings, "kubernetes")) == [("kitchen-sink", "notes/ops.md")]
    assert index.search(settings, "rotate quarter") == []
    hit = index.search(settings, "quarantine")[0]
    assert (hit["name"], hit["description"]) == ("pytest-flaky", "Quarantine unstable suites")


def test_a_file_turned_binary_is_dropped(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    (skills / "kitchen-sink" / "notes" / "ops.md").write_bytes(b"rotate\0\0\0 binary now")
    assert index.refresh(settings)["removed"] == 1
    assert index.search(settings, "rotate") == []


def test_a_removed_skill_disappears(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    shutil.rmtree(skills / "deploy-notes")
    assert index.refresh(settings)["removed"] == 2
    assert all(h["name"] != "deploy-notes" for h in index.search(settings, "deploy"))


def test_symlinks_are_not_followed(settings: Settings, skills: Path, tmp_path: Path) -> None:
    write(tmp_path / "outside.md", "supersecretword")
    os.symlink(tmp_path / "outside.md", skills / "pytest-flaky" / "link.md")
    index.refresh(settings)
    assert index.search(settings, "supersecretword") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""deploy',
        "AND",
        "deploy AND",
        "OR NOT",
        "*",
        "deploy*",
        "-deploy",
        "deploy -x",
        "NEAR(deploy rolling)",
        "col:deploy",
        "name:deploy",
        "(deploy",
        "^deploy",
        "{a b}: c",
        "a'b",
        "café",
        "CAFE",
        "zürich",
        "日本語",
        "デプロイ",
        "🙂 deploy",
        "x" * 5000,
        " ".join(["deploy"] * 100),
        "fly.io",
        "daily-logs",
        "a--b",
        "__init__",
    ],
)
def test_weird_queries_never_raise(settings: Settings, skills: Path, query: str) -> None:
    index.refresh(settings)
    assert isinstance(index.search(settings, query), list)


def test_unicode_and_diacritics(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    for query in ("café", "cafe", "Zurich", "zürich"):
        assert names(index.search(settings, query)) == [("kitchen-sink", "notes/cafe.md")], query


@pytest.mark.parametrize("query", ["", "   ", None, 3])
def test_empty_queries_are_refused(settings: Settings, query: object) -> None:
    with pytest.raises(InvalidInput, match="query"):
        index.search(settings, query, 5)  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ['"" * - ()', "🙂", "..."])
def test_queries_without_words_find_nothing(settings: Settings, skills: Path, query: str) -> None:
    index.refresh(settings)
    assert index.search(settings, query) == []
    with pytest.raises(InvalidInput, match="word"):
        index.fts_query(query)


@pytest.mark.parametrize("limit", [0, -1, True, "5"])
def test_bad_limits_are_refused(settings: Settings, limit: object) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        index.search(settings, "deploy", limit)  # type: ignore[arg-type]


def test_fts_query_quotes_every_term() -> None:
    assert index.fts_query('deploy "AND" -x* NEAR') == '"deploy" AND "x" AND "near"'
    assert index.fts_query("daily-logs fly.io", any_term=True) == '"daily logs" OR "fly io"'


def test_a_corrupt_index_is_rebuilt(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    index.index_path(settings).write_bytes(b"not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{index.index_path(settings)}{suffix}").unlink(missing_ok=True)
    assert index.refresh(settings)["added"] == 7
    assert index.search(settings, "rolling")


def test_an_older_schema_is_rebuilt(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    with sqlite3.connect(index.index_path(settings)) as conn:
        conn.execute("PRAGMA user_version = 99")
    assert index.refresh(settings)["added"] == 7


def test_missing_skills_dir_gives_an_empty_index(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", skills_dir=tmp_path / "nowhere")
    assert index.refresh(settings)["files"] == 0
    assert index.search(settings, "deploy") == []


def test_without_fts5_the_error_says_so(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    class NoFts5:
        def __init__(self, real: sqlite3.Connection) -> None:
            self.real = real

        def execute(self, sql: str, *args: object) -> object:
            if "USING fts5" in sql:
                raise sqlite3.OperationalError("no such module: fts5")
            return self.real.execute(sql, *args)

        def close(self) -> None:
            self.real.close()

    real_connect = index._connect
    monkeypatch.setattr(index, "_fts5_checked", False)
    monkeypatch.setattr(index, "_connect", lambda p, s, *a: NoFts5(real_connect(p, s, *a)))
    with pytest.raises(index.SearchUnavailable, match="FTS5"):
        index.refresh(settings)


def test_concurrent_refreshes_and_searches_agree(settings: Settings, skills: Path) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                index.refresh(settings)
                index.search(settings, "deploy")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert index.refresh(settings)["files"] == 7


# --- Keeper: the server's per-search refresh, from change notices --------------------------


@pytest.fixture(params=["inotify", "poll"])
def keeper(
    request: pytest.FixtureRequest, settings: Settings, skills: Path, monkeypatch
) -> Iterator[index.Keeper]:
    """A Keeper as the server holds one; "poll" is a system without inotify."""
    if request.param == "poll":
        monkeypatch.setattr(watch, "_libc", _no_inotify)
    kept = index.Keeper(settings, full_every=3600)
    assert kept.ensure_current() is None  # the first call refreshes in full
    assert isinstance(
        kept._watch, watch.PollWatch if request.param == "poll" else watch.InotifyWatch
    )
    yield kept
    kept.close()


def _no_inotify() -> None:
    raise OSError("no inotify on this platform")


def test_keeper_with_nothing_changed_reads_nothing(keeper: index.Keeper) -> None:
    assert keeper.ensure_current() == set()
    assert keeper.ensure_current() == set()


def test_keeper_finds_a_learning_commit_on_the_first_search(
    keeper: index.Keeper, settings: Settings, skills: Path
) -> None:
    from acontext_mcp.skills import repo

    shutil.rmtree(skills / ".git")  # the fixture's stand-in: a real repository instead
    repo.ensure_repo(skills).close()
    write(skills / "pytest-flaky" / "notes" / "seeds.md", "Pin the hypothesis seed first.\n")
    repo.commit_learning(skills, "learned", session_id=None, task_id=None, paths=["pytest-flaky"])
    assert keeper.ensure_current() == {"pytest-flaky"}
    assert names(index.search(settings, "hypothesis seed")) == [("pytest-flaky", "notes/seeds.md")]


def test_keeper_finds_a_new_and_a_deleted_skill_folder(
    keeper: index.Keeper, settings: Settings, skills: Path
) -> None:
    make_skill(skills, "zeppelin-ops", "Airships", "Check the gas cells.\n", {"a/b.md": "ballast"})
    shutil.rmtree(skills / "deploy-notes")
    assert keeper.ensure_current() == {"zeppelin-ops", "deploy-notes"}
    assert names(index.search(settings, "ballast")) == [("zeppelin-ops", "a/b.md")]
    assert index.search(settings, "rolling") == []
    assert "deploy-notes" not in {h["name"] for h in index.search(settings, "release")}


def test_inotify_keeper_finds_an_edit_in_place_on_the_first_search(
    keeper: index.Keeper, settings: Settings, skills: Path
) -> None:
    if isinstance(keeper._watch, watch.PollWatch):
        pytest.skip("folder mtimes cannot see an edit in place: see the full-refresh test")
    ops = skills / "kitchen-sink" / "notes" / "ops.md"
    before = ops.stat()
    ops.write_text("Now about kubernetes ingress only.\n"[: before.st_size].ljust(before.st_size))
    os.utime(ops, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    assert (ops.stat().st_size, ops.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert keeper.ensure_current() == {"kitchen-sink"}
    assert names(index.search(settings, "kubernetes")) == [("kitchen-sink", "notes/ops.md")]
    # A folder made after the watch started is watched too.
    write(skills / "kitchen-sink" / "later" / "x.md", "first words\n")
    assert keeper.ensure_current() == {"kitchen-sink"}
    (skills / "kitchen-sink" / "later" / "x.md").write_text("platypus words\n")
    assert keeper.ensure_current() == {"kitchen-sink"}
    assert names(index.search(settings, "platypus")) == [("kitchen-sink", "later/x.md")]


def test_poll_keeper_refreshes_in_full_every_interval(
    settings: Settings, skills: Path, monkeypatch
) -> None:
    monkeypatch.setattr(watch, "_libc", _no_inotify)
    kept = index.Keeper(settings, full_every=0)
    kept.ensure_current()
    ops = skills / "kitchen-sink" / "notes" / "ops.md"
    ops.write_text("Now about kubernetes ingress only.\n")
    os.utime(ops, ns=(1, 1))
    assert kept.ensure_current() is None
    assert names(index.search(settings, "kubernetes")) == [("kitchen-sink", "notes/ops.md")]


def test_keeper_restarts_when_the_skills_dir_is_replaced(settings: Settings, skills: Path) -> None:
    kept = index.Keeper(settings, full_every=3600)
    kept.ensure_current()
    moved = skills.with_name("old-skills")
    skills.rename(moved)
    make_skill(skills, "fresh-start", "A new library", "Nothing else.\n", {})
    assert kept.ensure_current() is None  # the watched folder went: only a full walk can tell
    assert [h["name"] for h in index.search(settings, "library")] == ["fresh-start"]
    assert index.search(settings, "rolling") == []
    make_skill(skills, "second-skill", "Watched again", "A narwhal.\n", {})
    assert kept.ensure_current() == {"second-skill"}  # the new folder is watched
    kept.close()


def test_refresh_skills_rereads_only_the_named_skills(settings: Settings, skills: Path) -> None:
    index.refresh(settings)
    (skills / "kitchen-sink" / "notes" / "ops.md").write_text("walrus\n")
    (skills / "pytest-flaky" / "scripts" / "rerun.py").write_text("print('narwhal')\n")
    stats = index.refresh_skills(settings, ["kitchen-sink", "no-such-skill", "../etc"])
    assert stats["files"] == 7 and stats["removed"] == 0
    assert names(index.search(settings, "walrus")) == [("kitchen-sink", "notes/ops.md")]
    assert index.search(settings, "narwhal") == []  # not named: not read


def test_keeper_falls_back_to_folder_mtimes_when_the_watch_fails(
    settings: Settings, skills: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = index.Keeper(settings, full_every=3600)
    kept.ensure_current()

    def out_of_watches() -> set[str]:
        raise OSError(28, "inotify_add_watch: No space left on device")

    monkeypatch.setattr(kept._watch, "changed", out_of_watches)
    make_skill(skills, "late-skill", "Arrived late", "A walrus.\n", {})
    assert kept.ensure_current() is None  # a full refresh, and a watch that works
    assert isinstance(kept._watch, watch.PollWatch)
    assert [h["name"] for h in index.search(settings, "walrus")] == ["late-skill"]
    make_skill(skills, "later-skill", "Arrived later", "A narwhal.\n", {})
    assert kept.ensure_current() == {"later-skill"}
    assert [h["name"] for h in index.search(settings, "narwhal")] == ["later-skill"]
    kept.close()


def test_a_word_in_most_files_of_a_large_index_is_left_out(
    settings: Settings, skills: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        write(skills / "kitchen-sink" / "notes" / f"shared-{i}.md", f"shared note {i}\n")
    write(skills / "deploy-notes" / "shared.md", "shared\n")
    assert index.refresh(settings)["files"] == 14  # 7 say "shared": bm25 gives it no weight
    assert len(index.search(settings, "shared rotate")) == 8  # small index: every word counts
    monkeypatch.setattr(index, "COMMON_FROM", 10)
    assert names(index.search(settings, "shared rotate")) == [("kitchen-sink", "notes/ops.md")]
    assert len(index.search(settings, "shared")) == 7  # the only word: kept
    assert len(index.search(settings, "shared zzyzx")) == 7  # nothing else matches: kept


def test_words_in_most_files_rank_names_first_and_a_window_of_the_rest(
    settings: Settings, skills: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(8):
        write(skills / "kitchen-sink" / "notes" / f"n{i}.md", f"everywhere {i}\n")
    make_skill(skills, "tips", "Tips that apply everywhere", "# Tips\n", {})
    assert index.refresh(settings)["files"] == 16  # 9 say "everywhere"
    everything = names(index.search(settings, "everywhere", 20))
    assert everything[0] == ("tips", "SKILL.md") and len(everything) == 9
    monkeypatch.setattr(index, "COMMON_FROM", 10)
    monkeypatch.setattr(index, "WINDOW", 3)
    hits = index.search(settings, "everywhere", 20)
    assert names(hits)[0] == ("tips", "SKILL.md")  # its description names the word
    assert 3 <= len(hits) <= 4 and set(names(hits)) < set(everything)
    assert all("**everywhere**" in h["snippet"] for h in hits)


def test_query_terms_import_nothing_but_re() -> None:
    """The search's words and query, importable alone: no index, no sqlite3, no config."""
    code = (
        "import sys; from acontext_mcp.skills.terms import fts_query; "
        "print(fts_query('how do I run the tests?', any_term=True)); "
        "print(sorted(m for m in sys.modules if m.startswith('acontext_mcp') or m == 'sqlite3'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == '"run" OR "tests"'
    assert out[1] == str(
        [
            "acontext_mcp",
            "acontext_mcp.errors",
            "acontext_mcp.skills",
            "acontext_mcp.skills.stop_words",
            "acontext_mcp.skills.terms",
        ]
    )
    assert index.fts_query is terms.fts_query and index.STOP_WORDS is terms.STOP_WORDS

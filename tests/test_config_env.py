"""One source for settings: the environment is read in config.py only, with one rule (a blank
value counts as unset), and the host agents' paths are computed there once."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from acontext_mcp import config, hooks
from acontext_mcp.capture import importer
from acontext_mcp.config import Settings
from acontext_mcp.llm.select import choose
from acontext_mcp.privacy.switches import capture_allowed
from acontext_mcp.setup import claude_code, openclaw
from acontext_mcp.skills import sync
from acontext_mcp.worker import triggers

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "acontext_mcp"
OWNER = "acontext_mcp/config.py"

# (module, function) -> why it may read the environment outside config.py
ALLOWED = {
    ("acontext_mcp/hooks/__init__.py", "_home"): "runs before the hook forks, while the "
    "host waits; importing config.py costs ~3 ms. test_hook_parent_reads_the_same_home",
    ("acontext_mcp/hooks/__init__.py", "_detach"): "the same: decides whether to fork at all",
    ("acontext_mcp/hooks/__init__.py", "from_env"): "HookPaths: the prompt hook answers "
    "while the user waits; config.py's pathlib costs ~5 ms. test_hook_paths_match_settings",
    ("acontext_mcp/store/prepared.py", "environment"): "a prepared SessionStart answer "
    "records the variables it was made under and holds only while they are the same: a "
    "snapshot of names, not a setting read (the check runs before config.py is imported)",
    ("acontext_mcp/setup/doctor_mcp.py", "_expand"): "expands ${VAR} in a host's MCP server "
    "entry the way the host does: any variable name, not a setting of ours",
}


def env_reads(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function) of every read of os.environ / os.getenv in `source`. Copying
    the whole environment into a child's (`{**os.environ, ...}`) is not a read of a setting."""
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def function(node: ast.AST) -> str:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node.name
        return "<module>"

    def splat(node: ast.AST) -> bool:
        parent = parents.get(node)
        return isinstance(parent, ast.Dict) and any(
            key is None and value is node
            for key, value in zip(parent.keys, parent.values, strict=True)
        )

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if {a.name for a in node.names} & {"environ", "environb", "getenv", "getenvb"}:
                found.append((node.lineno, function(node)))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "environb", "getenv", "getenvb")
            and not splat(node)
        ):
            found.append((node.lineno, function(node)))
    return found


def test_scan_finds_reads_and_lets_child_environments_pass() -> None:
    source = (
        "import os\nfrom os import getenv\n"
        "def f():\n    return os.environ.get('X'), os.getenv('Y'), os.environ['Z']\n"
        "def child():\n    return {**os.environ, 'A': '1'}\n"
    )
    assert env_reads(source) == [(2, "<module>"), (4, "f"), (4, "f"), (4, "f")]


def test_only_config_reads_the_environment() -> None:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel == OWNER:
            continue
        for line, where in env_reads(path.read_text(encoding="utf-8")):
            if (rel, where) not in ALLOWED:
                bad.append(f"{rel}:{line} ({where}) reads the environment: add it to config.py")
    assert not bad, "\n".join(bad)


def test_allow_list_entries_give_a_reason() -> None:
    assert all(len(reason) > 20 for reason in ALLOWED.values())


# --- one rule: blank is unset --------------------------------------------------------------

BLANK = ["", "   "]


@pytest.mark.parametrize("value", BLANK)
def test_blank_claude_config_dir_means_the_default_everywhere(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", value)
    default = Path.home() / ".claude"
    assert config.claude_config_dir() == default
    assert claude_code.claude_dir() == default
    assert claude_code.claude_json() == Path.home() / ".claude.json"
    assert sync.claude_user_skills_dir() == default / "skills"
    assert importer.default_root() == default / "projects"


def test_claude_config_dir_is_computed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative or `~` value means the same absolute folder to setup, sync and import."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", " cc ")
    assert claude_code.claude_dir() == tmp_path / "cc"
    assert claude_code.claude_json() == tmp_path / "cc" / ".claude.json"
    assert sync.claude_user_skills_dir() == tmp_path / "cc" / "skills"
    assert importer.default_root() == tmp_path / "cc" / "projects"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", "~/elsewhere")
    assert claude_code.claude_dir() == Path.home() / "elsewhere"
    assert importer.default_root() == Path.home() / "elsewhere" / "projects"


@pytest.mark.parametrize("value", [*BLANK, "undefined", "null"])
def test_blank_openclaw_paths_mean_the_default_everywhere(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENCLAW_HOME", "OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH"):
        monkeypatch.setenv(name, value)
    state = Path.home() / ".openclaw"
    assert openclaw.state_dir() == state == sync.openclaw_state_dir()
    assert openclaw.config_path() == state / "openclaw.json"


def test_openclaw_paths_follow_openclaw_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENCLAW_HOME", str(tmp_path / "oc-home"))
    assert sync.openclaw_state_dir() == tmp_path / "oc-home" / ".openclaw"
    assert openclaw.config_path() == tmp_path / "oc-home" / ".openclaw" / "openclaw.json"
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(tmp_path / "state"))
    assert openclaw.state_dir() == tmp_path / "state" == sync.openclaw_state_dir()
    monkeypatch.setenv("OPENCLAW_CONFIG_PATH", str(tmp_path / "c.json"))
    assert openclaw.config_path() == tmp_path / "c.json"


@pytest.mark.parametrize("value", BLANK)
def test_blank_acontext_variables_mean_their_defaults(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in config.ENV_VARS:
        monkeypatch.setenv(name, value)
    s = Settings.from_env()
    assert s.home == Path.home() / ".acontext-mcp"
    assert s.skills_dir == s.home / "skills"
    assert (s.log_level, s.llm_provider, s.llm_model, s.llm_base_url) == ("INFO", None, None, None)
    assert s.max_artifact_bytes == config.DEFAULT_MAX_ARTIFACT_BYTES
    assert triggers.autostart_enabled()
    assert triggers.batch_size() == triggers.DEFAULT_BATCH
    s.ensure_dirs()
    assert capture_allowed(s, project_dir=None, session_id=None) == (True, "")


@pytest.mark.parametrize("value", BLANK)
def test_blank_keys_select_no_provider(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in config.LLM_CREDENTIAL_VARS:
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ACONTEXT_LLM_PROVIDER", "openai")
    assert config.llm_credentials() == {}
    assert choose(Settings.from_env()).name == "none"
    monkeypatch.setenv("OPENAI_API_KEY", " sk-test ")
    assert config.llm_credentials() == {"OPENAI_API_KEY": "sk-test"}
    assert choose(Settings.from_env()).name == "openai"


@pytest.mark.parametrize("value", [*BLANK, " ~/data "])
def test_hook_parent_reads_the_same_home(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hooks/__init__.py reads ACONTEXT_HOME itself (see ALLOWED): the same folder as config."""
    monkeypatch.chdir(tmp_path)  # a wrong reading lands in a relative folder: keep it here
    monkeypatch.setenv("ACONTEXT_HOME", value)
    home = config.acontext_home()
    assert not (home / "logs" / "hooks.log").exists()
    assert hooks._log_writable()
    assert (home / "logs" / "hooks.log").is_file()


@pytest.mark.parametrize("skills", [*BLANK, " ~/my skills ", "rel/skills"])
@pytest.mark.parametrize("home", [*BLANK[:1], " ~/data "])
def test_hook_paths_match_settings(
    home: str, skills: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hooks.HookPaths reads ACONTEXT_HOME and ACONTEXT_SKILLS_DIR itself (see ALLOWED): the
    same folders and store file as config.Settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACONTEXT_HOME", home)
    monkeypatch.setenv("ACONTEXT_SKILLS_DIR", skills)
    settings, paths = config.Settings.from_env(), hooks.HookPaths.from_env()
    assert Path(paths.home) == settings.home
    assert Path(paths.skills_dir) == settings.skills_dir
    assert Path(paths.db_path) == settings.db_path


@pytest.mark.parametrize(("value", "forks"), [("1", False), (" 1 ", False), ("", True)])
def test_hook_inline_switch(value: str, forks: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[bool] = []

    def no_fork() -> int:
        tried.append(True)
        raise OSError("not in a test")

    monkeypatch.setenv("ACONTEXT_HOOK_INLINE", value)
    monkeypatch.setattr(hooks.os, "fork", no_fork)
    assert hooks._detach() is False
    assert bool(tried) is forks


def test_the_shared_fixture_isolates_the_user(tmp_path: Path) -> None:
    assert Path.home() == tmp_path / "user"
    assert os.environ["ACONTEXT_HOME"] == str(tmp_path / "home")
    leaked = [n for n in os.environ if n.startswith(("OPENCLAW_", "CLAUDE_CONFIG_DIR"))]
    assert not leaked
    assert {n for n in os.environ if n.startswith("ACONTEXT_")} <= {
        "ACONTEXT_HOME",
        "ACONTEXT_WORKER",
        "ACONTEXT_SKIP_E2E",
    }


def test_settings_is_a_frozen_value(tmp_path: Path) -> None:
    """Settings is written out (no dataclasses import on the hook path) but behaves as the
    frozen dataclass it replaced: keyword construction with defaults, == and hash over every
    setting but `extra`, a changed copy through `replace`, no assignment."""
    a = Settings(home=tmp_path, skills_dir=tmp_path / "s", extra={"x": "1"})
    b = Settings(tmp_path, tmp_path / "s")
    assert a == b and hash(a) == hash(b) and a.extra != b.extra  # extra is not compared
    assert a.max_artifact_bytes == config.DEFAULT_MAX_ARTIFACT_BYTES
    c = a.replace(brief_chars=500)
    assert (c.brief_chars, a.brief_chars, c.home, c.extra) == (500, 2000, tmp_path, {"x": "1"})
    assert c != a and len({a, b, c}) == 2
    with pytest.raises(TypeError):
        a.replace(no_such_setting=1)
    with pytest.raises(AttributeError, match="frozen"):
        a.brief_chars = 1
    assert repr(b).startswith(f"Settings(home={tmp_path!r}, skills_dir=")
    assert list(b.as_dict()) == [*Settings.__annotations__]  # every field, declared order


def test_settings_annotations_match_the_constructor() -> None:
    """A new setting must be both declared (for type checkers and readers) and accepted by
    __init__ with the same type, in the same place."""
    import inspect

    params = inspect.signature(Settings.__init__).parameters
    declared = dict(Settings.__annotations__)
    assert list(params)[1:] == list(declared)
    for name, annotation in declared.items():
        wanted = annotation if name != "extra" else "dict[str, str] | None"
        assert params[name].annotation == wanted, name

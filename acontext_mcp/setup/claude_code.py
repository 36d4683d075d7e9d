"""`install claude-code` / `uninstall claude-code`: hooks in settings.json, MCP server entry.

Direct registration, no `claude` CLI needed. User scope: hooks in `~/.claude/settings.json`,
server in `~/.claude.json` `mcpServers` (both under `$CLAUDE_CONFIG_DIR` when set, which is
where Claude Code itself puts them). Project scope: `<project>/.claude/settings.json` and
`<project>/.mcp.json`. Our hook handlers are recognised by their command (`acontext-mcp hook
claude-code ...`, any path), so reinstalling replaces them and uninstall removes only them.
"""

from __future__ import annotations

import copy
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acontext_mcp.config import claude_config_dir, claude_user_json
from acontext_mcp.setup import (
    SERVER_NAME,
    Outcome,
    SetupError,
    explicit_home,
    find_executable,
    is_our_server,
    manifest_path,
    names_us,
    path_tag,
    read_manifest,
    split_command,
)
from acontext_mcp.setup.jsonfile import (
    MISSING,
    Edit,
    FileRecord,
    Key,
    commit,
    delete_in,
    get_in,
    original_text,
    plan,
    prune,
    read_doc,
)

AGENT = "claude-code"
# Mirrors plugins/claude-code/hooks/hooks.json (a test keeps them equal).
HOOK_EVENTS: dict[str, dict[str, Any]] = {
    "SessionStart": {"timeout": 30},
    # Not async: it answers with the lesson matching the prompt (hooks/prompt_lesson.py).
    "UserPromptSubmit": {"timeout": 10},
    "PostToolUse": {"matcher": "*", "timeout": 30, "async": True},
    "PostToolUseFailure": {"matcher": "*", "timeout": 30, "async": True},
    "TaskCompleted": {"timeout": 30, "async": True},
    "Stop": {"timeout": 30},
    "SubagentStop": {"timeout": 30},
    "PreCompact": {"timeout": 30},
    "SessionEnd": {"timeout": 2},
}
SERVER_KEY: Key = ["mcpServers", SERVER_NAME]


@dataclass(frozen=True)
class Target:
    """Where one scope's hooks and server live, and where we record what install did."""

    scope: str
    project: Path | None
    settings_file: Path
    mcp_file: Path
    manifest: Path


def claude_dir() -> Path:
    return claude_config_dir()


def claude_json() -> Path:
    return claude_user_json()


def settings_files(project: Path) -> list[Path]:
    """Every settings file whose hooks Claude Code runs for `project`: user, project, local."""
    return [
        claude_dir() / "settings.json",
        project / ".claude" / "settings.json",
        project / ".claude" / "settings.local.json",
    ]


def target(scope: str, project: str | None, home: Path) -> Target:
    if scope == "user":
        return Target(
            "user",
            None,
            claude_dir() / "settings.json",
            claude_json(),
            manifest_path(home, "claude-code-user"),
        )
    if scope != "project":
        raise SetupError(f"unknown scope {scope!r}: use user or project")
    root = Path(project or os.getcwd()).expanduser().absolute()
    if not root.is_dir():
        raise SetupError(f"--project {root}: not a directory")
    return Target(
        "project",
        root,
        root / ".claude" / "settings.json",
        root / ".mcp.json",
        manifest_path(home, f"claude-code-project-{path_tag(root)}"),
    )


# --- Our entries ---


def hook_command(exe: str, event: str, home: str | None) -> str:
    prefix = f"ACONTEXT_HOME={shlex.quote(home)} " if home else ""
    return f"{prefix}{shlex.quote(exe)} hook {AGENT} {event}"


def hook_group(exe: str, event: str, home: str | None) -> dict[str, Any]:
    spec = HOOK_EVENTS[event]
    handler: dict[str, Any] = {
        "type": "command",
        "command": hook_command(exe, event, home),
        "timeout": spec["timeout"],
    }
    if spec.get("async"):
        handler["async"] = True
    group: dict[str, Any] = {"matcher": spec["matcher"]} if "matcher" in spec else {}
    group["hooks"] = [handler]
    return group


def handler_argv(handler: Any) -> tuple[dict[str, str], list[str]] | None:
    """(env assignments, argv) of a command handler, exec form or shell form."""
    if not isinstance(handler, dict) or handler.get("type", "command") != "command":
        return None
    command = handler.get("command")
    if not isinstance(command, str):
        return None
    args = handler.get("args")
    if isinstance(args, list):
        return {}, [command, *(str(a) for a in args)]
    return split_command(command)


def is_our_handler(handler: Any) -> bool:
    """A handler running `acontext-mcp hook claude-code ...` (whatever path or interpreter)."""
    parsed = handler_argv(handler)
    if parsed is None:
        return False
    argv = parsed[1]
    return any(
        names_us(tok) and argv[i + 1 : i + 3] == ["hook", AGENT] for i, tok in enumerate(argv)
    )


def hook_event_of(handler: Any) -> str | None:
    parsed = handler_argv(handler)
    if parsed is None:
        return None
    argv = parsed[1]
    for i, tok in enumerate(argv):
        if names_us(tok) and argv[i + 1 : i + 3] == ["hook", AGENT] and len(argv) > i + 3:
            return argv[i + 3]
    return None


def server_entry(exe: str, home: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "stdio", "command": exe, "args": ["serve"]}
    if home:
        entry["env"] = {"ACONTEXT_HOME": home}
    return entry


def _without_ours(groups: list[Any]) -> list[Any]:
    """The matcher groups minus our handlers; a group left with no handler goes too."""
    out = []
    for group in groups:
        handlers = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(handlers, list) or not any(is_our_handler(h) for h in handlers):
            out.append(group)
            continue
        kept = [h for h in handlers if not is_our_handler(h)]
        if kept:
            out.append({**group, "hooks": kept})
    return out


def _strip_hooks(data: dict[str, Any]) -> list[Key]:
    """Remove our handlers from every event; returns the containers this left empty."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return []
    emptied: list[Key] = []
    for event, groups in list(hooks.items()):
        if not isinstance(groups, list):
            continue
        kept = _without_ours(groups)
        if kept != groups:
            hooks[event] = kept
            if not kept:
                emptied.append(["hooks", event])
    return [*emptied, ["hooks"]] if emptied else []  # prune() deletes only what is empty


def _merge_hooks(data: dict[str, Any], record: FileRecord, exe: str, home: str | None) -> None:
    hooks = record.container(data, ["hooks"])
    for event, groups in list(hooks.items()):
        if not isinstance(groups, list):
            if event in HOOK_EVENTS:
                raise SetupError(
                    f"`hooks.{event}` is not a list; fix it by hand, nothing was changed"
                )
            continue
        ours = [
            g
            for g in groups
            if isinstance(g, dict)
            and any(is_our_handler(h) for h in g.get("hooks") or [] if isinstance(h, dict))
        ]
        if event in HOOK_EVENTS and ours == [hook_group(exe, event, home)]:
            continue  # already exactly ours, where it is
        if ours:
            hooks[event] = _without_ours(groups)
            if not hooks[event] and event not in HOOK_EVENTS:
                del hooks[event]  # an old install's event that we no longer use
    for event in HOOK_EVENTS:
        groups = record.container(data, ["hooks", event], list)
        desired = hook_group(exe, event, home)
        if desired not in groups:
            groups.append(desired)


def _merge_server(
    data: dict[str, Any], record: FileRecord, exe: str, home: str | None, notes: list[str]
) -> None:
    desired = server_entry(exe, home)
    current = get_in(data, SERVER_KEY)
    if current == desired:
        return
    if current is not MISSING and is_our_server(current):
        delete_in(data, SERVER_KEY)  # an older acontext-mcp (other path): replaced, not restored
    elif current is not MISSING:
        notes.append(f"replaced your own `mcpServers.{SERVER_NAME}` entry; uninstall puts it back")
    record.set(data, SERVER_KEY, desired)


# --- Commands ---


def _records(manifest: dict[str, Any] | None, path: Path) -> FileRecord | None:
    if manifest is None:
        return None
    return FileRecord.from_json((manifest.get("files") or {}).get(str(path)))


def _warn_plugin(data: dict[str, Any], notes: list[str]) -> None:
    plugins = data.get("enabledPlugins")
    if isinstance(plugins, dict) and any(
        k.startswith("acontext@") and v for k, v in plugins.items()
    ):
        notes.append(
            "the acontext Claude Code plugin is enabled too, so every event would run "
            "twice (harmless, but slower): keep one, e.g. `/plugin disable acontext`"
        )


def install(
    home: Path,
    *,
    scope: str = "user",
    project: str | None = None,
    dry_run: bool = False,
    command: str | None = None,
) -> Outcome:
    """Merge our hooks and MCP server into the scope's files (idempotent)."""
    tgt = target(scope, project, home)
    exe = find_executable(command)
    acontext_home = explicit_home()
    manifest = read_manifest(tgt.manifest)
    out = Outcome("install", AGENT, dry_run, manifest=str(tgt.manifest))
    settings_doc = read_doc(tgt.settings_file)
    mcp_doc = read_doc(tgt.mcp_file)  # both parsed before anything is planned
    edits: list[Edit] = []
    records: dict[str, Any] = {}
    for doc, merge, mode in (
        (settings_doc, lambda d, r: _merge_hooks(d, r, exe, acontext_home), 0o644),
        (
            mcp_doc,
            lambda d, r: _merge_server(d, r, exe, acontext_home, out.notes),
            0o600 if scope == "user" else 0o644,
        ),
    ):
        record = _records(manifest, doc.path) or FileRecord()
        data: dict[str, Any] = copy.deepcopy(doc.data)
        merge(data, record)
        if doc.text is None and not record.created:
            record.created = True
        edits.append(plan(doc, data, new_mode=mode))
        records[str(doc.path)] = record.to_json()
    _warn_plugin(settings_doc.data, out.notes)
    if scope == "user":
        local = get_in(mcp_doc.data, ["projects", os.getcwd(), "mcpServers", SERVER_NAME])
        if local is not MISSING:
            out.notes.append(
                f"`{tgt.mcp_file}` also has a local-scope `{SERVER_NAME}` server "
                f"for {os.getcwd()}; it wins over this one there"
            )
    if tgt.scope == "project":
        out.notes.append(
            f"{tgt.mcp_file.name} and .claude/settings.json name {exe}, a path on "
            "this machine; Claude Code asks each user to approve project MCP "
            "servers"
        )
    new_manifest = {
        "agent": AGENT,
        "scope": tgt.scope,
        "project": str(tgt.project) if tgt.project else None,
        "command": exe,
        "acontext_home": acontext_home,
        "files": records,
    }
    return commit(out, edits, home, tgt.manifest, manifest, new_manifest)


def uninstall(
    home: Path, *, scope: str = "user", project: str | None = None, dry_run: bool = False
) -> Outcome:
    """Remove exactly our hooks and server; restore what install displaced."""
    tgt = target(scope, project, home)
    manifest = read_manifest(tgt.manifest)
    out = Outcome("uninstall", AGENT, dry_run, manifest=str(tgt.manifest))
    docs = [read_doc(tgt.settings_file), read_doc(tgt.mcp_file)]
    edits = []
    for doc in docs:
        record = _records(manifest, doc.path)
        data = copy.deepcopy(doc.data)
        emptied = _strip_hooks(data) if doc.path == tgt.settings_file else []
        if record is not None:
            record.undo(data, out.notes)
        if doc.path == tgt.mcp_file and is_our_server(get_in(data, SERVER_KEY)):
            delete_in(data, SERVER_KEY)
            emptied.append(["mcpServers"])
        prune(data, [k for k in emptied if record is None or k in record.created_keys])
        created = record is not None and record.created
        edits.append(plan(doc, data, delete_if_empty=created, original=original_text(record)))
    return commit(out, edits, home, tgt.manifest, manifest, None)

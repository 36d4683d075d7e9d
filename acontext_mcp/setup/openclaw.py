"""`install openclaw` / `uninstall openclaw`: point OpenClaw's config at our native plugin.

What `openclaw plugins install --link` + `openclaw config set` would do, as one reversible
merge into `openclaw.json` ($OPENCLAW_CONFIG_PATH, else `<state dir>/openclaw.json`, the state
dir being $OPENCLAW_STATE_DIR or `~/.openclaw`): the plugin folder in `plugins.load.paths`,
`plugins.entries.acontext` enabled with `hooks.allowConversationAccess` (without it OpenClaw
never hands the plugin the conversation) and our executable as `config.command`, `acontext`
added to `plugins.allow` only when an allowlist already exists, and `mcp.servers.acontext`
with the absolute command (it overrides the manifest's bare `acontext-mcp`). The config may be
JSON5; we only rewrite plain JSON and otherwise print the equivalent `openclaw` commands.
"""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import acontext_mcp
from acontext_mcp.config import openclaw_config_path, openclaw_readonly, openclaw_state_dir
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
)
from acontext_mcp.setup.jsonfile import (
    MISSING,
    FileRecord,
    Key,
    commit,
    delete_in,
    get_in,
    original_text,
    plan,
    read_doc,
)

AGENT = "openclaw"
PLUGIN_ID = "acontext"
MANIFEST_FILE = "openclaw.plugin.json"
PATHS: Key = ["plugins", "load", "paths"]
ALLOW: Key = ["plugins", "allow"]
ENTRY: Key = ["plugins", "entries", PLUGIN_ID]
SERVER: Key = ["mcp", "servers", SERVER_NAME]


def state_dir() -> Path:
    return openclaw_state_dir()


def config_path(explicit: str | None = None) -> Path:
    """The config file OpenClaw reads (same precedence as OpenClaw's own resolver)."""
    if explicit:
        return Path(explicit).expanduser().absolute()
    return openclaw_config_path()


def _plugin_id(folder: Path) -> str | None:
    try:
        data = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("id") if isinstance(data, dict) else None


def plugin_dir(explicit: str | None = None) -> Path:
    """Our plugin folder: --plugin-dir, package data, or the source checkout's plugins/."""
    package = Path(acontext_mcp.__file__).resolve().parent
    candidates = (
        [Path(explicit).expanduser()]
        if explicit
        else [package / "_plugins" / "openclaw", package.parent / "plugins" / "openclaw"]
    )
    for folder in candidates:
        if _plugin_id(folder) == PLUGIN_ID:
            return folder.absolute()
    where = ", ".join(str(c) for c in candidates)
    raise SetupError(
        f"cannot find the acontext OpenClaw plugin (a folder with {MANIFEST_FILE}, id "
        f"{PLUGIN_ID!r}) at {where}; this installation does not ship it. Pass --plugin-dir "
        "/path/to/acontext-mcp/plugins/openclaw from a checkout of the repository"
    )


def is_our_plugin_path(value: Any) -> bool:
    """A load path that is (or was, if since deleted) the acontext plugin folder."""
    if not isinstance(value, str):
        return False
    folder = Path(value).expanduser()
    if folder.exists():
        return _plugin_id(folder) == PLUGIN_ID
    return "acontext" in value and value.rstrip("/").endswith("plugins/openclaw")


def server_entry(exe: str, home: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": exe, "args": ["serve"]}
    if home:
        entry["env"] = {"ACONTEXT_HOME": home}
    return entry


def cli_equivalent(plugin: Path, exe: str, home: str | None) -> str:
    """The same install with OpenClaw's CLI, for configs we will not rewrite (JSON5)."""
    server = json.dumps(server_entry(exe, home))
    lines = [
        f"openclaw plugins install --link {shlex.quote(str(plugin))} --force --accept-capabilities",
        f"openclaw config set {dotted_entry('hooks.allowConversationAccess')} true",
        f"openclaw config set {dotted_entry('config.command')} {shlex.quote(json.dumps(exe))}",
        f"openclaw mcp set {SERVER_NAME} {shlex.quote(server)}",
    ]
    if home:
        value = shlex.quote(json.dumps(home))
        lines.insert(3, f"openclaw config set {dotted_entry('config.acontextHome')} {value}")
    return "\n  ".join(lines)


def dotted_entry(rest: str) -> str:
    return f"plugins.entries.{PLUGIN_ID}.{rest}"


def _refuse_readonly() -> None:
    name = openclaw_readonly()
    if name:
        raise SetupError(
            f"{name}=1: OpenClaw's config is managed elsewhere (read-only); nothing was changed"
        )


def _set_ours(data: dict[str, Any], record: FileRecord, key: Key, value: Any, ours: bool) -> None:
    """Set `key`; an earlier acontext value (`ours`) is replaced, not restored on uninstall."""
    current = get_in(data, key)
    if current != value and current is not MISSING and ours:
        delete_in(data, key)
    record.set(data, key, value)


def _merge(
    data: dict[str, Any],
    record: FileRecord,
    exe: str,
    home: str | None,
    plugin: Path,
    notes: list[str],
) -> None:
    paths = record.container(data, PATHS, list)
    for old in [p for p in paths if p != str(plugin) and is_our_plugin_path(p)]:
        paths.remove(old)  # an earlier install from another place
    record.append(data, PATHS, str(plugin))
    allow = get_in(data, ALLOW)
    if isinstance(allow, list) and allow and PLUGIN_ID not in allow:
        record.append(data, ALLOW, PLUGIN_ID)
    deny = get_in(data, ["plugins", "deny"])
    if isinstance(deny, list) and PLUGIN_ID in deny:
        notes.append(
            f"plugins.deny lists {PLUGIN_ID!r}: OpenClaw will not load the plugin until "
            "you remove it"
        )
    if get_in(data, ["plugins", "enabled"]) is False:
        notes.append("plugins.enabled is false: OpenClaw loads no plugin at all")
    record.set(data, [*ENTRY, "enabled"], True)
    record.set(data, [*ENTRY, "hooks", "allowConversationAccess"], True)
    command_key = [*ENTRY, "config", "command"]
    current = get_in(data, command_key)
    _set_ours(data, record, command_key, exe, isinstance(current, str) and names_us(current))
    if home:
        record.set(data, [*ENTRY, "config", "acontextHome"], home)
    server = server_entry(exe, home)
    current = get_in(data, SERVER)
    if current not in (MISSING, server) and not is_our_server(current):
        notes.append(f"replaced your own `mcp.servers.{SERVER_NAME}`; uninstall puts it back")
    _set_ours(data, record, SERVER, server, is_our_server(current))


def _target(home: Path, config: str | None) -> tuple[Path, Path]:
    path = config_path(config)
    return path, manifest_path(home, f"openclaw-{path_tag(path)}")


def install(
    home: Path,
    *,
    config: str | None = None,
    plugin: str | None = None,
    dry_run: bool = False,
    command: str | None = None,
) -> Outcome:
    """Merge the plugin registration and MCP server into openclaw.json (idempotent)."""
    _refuse_readonly()
    path, manifest_file = _target(home, config)
    folder = plugin_dir(plugin)
    exe = find_executable(command)
    acontext_home = explicit_home()
    doc = read_doc(
        path,
        hint="OpenClaw also accepts JSON5 (comments, trailing commas), which "
        "acontext-mcp does not rewrite; the same install with OpenClaw's CLI:\n  "
        + cli_equivalent(folder, exe, acontext_home),
    )
    manifest = read_manifest(manifest_file)
    out = Outcome("install", AGENT, dry_run, manifest=str(manifest_file))
    record = FileRecord.from_json((manifest or {}).get("files", {}).get(str(path)))
    data = copy.deepcopy(doc.data)
    _merge(data, record, exe, acontext_home, folder, out.notes)
    if doc.text is None:
        record.created = True
    edit = plan(doc, data, new_mode=0o600)
    new = {
        "agent": AGENT,
        "config": str(path),
        "plugin_dir": str(folder),
        "command": exe,
        "acontext_home": acontext_home,
        "files": {str(path): record.to_json()},
    }
    commit(out, [edit], home, manifest_file, manifest, new)
    if out.wrote and not dry_run:
        out.notes.append(
            "restart a running Gateway (`openclaw gateway restart`); check with "
            f"`openclaw plugins inspect {PLUGIN_ID} --runtime --json` or `acontext-mcp doctor`"
        )
    return out


def uninstall(home: Path, *, config: str | None = None, dry_run: bool = False) -> Outcome:
    """Undo the recorded install; without a record, remove only what is surely ours."""
    _refuse_readonly()
    path, manifest_file = _target(home, config)
    doc = read_doc(
        path,
        hint="For a JSON5 config use `openclaw plugins uninstall acontext` "
        f"and `openclaw mcp unset {SERVER_NAME}`.",
    )
    manifest = read_manifest(manifest_file)
    out = Outcome("uninstall", AGENT, dry_run, manifest=str(manifest_file))
    raw = (manifest or {}).get("files", {}).get(str(path))
    data = copy.deepcopy(doc.data)
    if raw is not None:
        record = FileRecord.from_json(raw)
        record.undo(data, out.notes)
        edit = plan(doc, data, delete_if_empty=record.created, original=original_text(record))
    else:
        paths = get_in(data, PATHS)
        if isinstance(paths, list):
            paths[:] = [p for p in paths if not is_our_plugin_path(p)]
        if is_our_server(get_in(data, SERVER)):
            delete_in(data, SERVER)
        if get_in(data, ENTRY) is not MISSING:
            out.notes.append(
                f"no install record: left `{'.'.join(ENTRY)}` in place (remove it "
                f"with `openclaw config unset {'.'.join(ENTRY)}`)"
            )
        edit = plan(doc, data)
    return commit(out, [edit], home, manifest_file, manifest, None)

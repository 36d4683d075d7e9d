"""The MCP server: thin tool wrappers over domain functions, served over stdio.

Each tool parses its arguments from type hints, borrows a store connection, calls one domain
function and shapes the result. Domain errors become `ToolError` with the domain's message in
one place (`_tool_errors`), so the model always gets something it can act on.
"""

from __future__ import annotations

import functools
import itertools
import logging
import mimetypes
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

import anyio
from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    InputRequiredResult,
    ListResourcesResult,
    PaginatedRequestParams,
    ToolAnnotations,
)
from mcp.types import Resource as MCPResource
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from acontext_mcp import __version__, tool_args
from acontext_mcp.config import Settings, host_project_dir
from acontext_mcp.disk import files as disk_files
from acontext_mcp.disk import search as disk_search
from acontext_mcp.errors import AcontextError, storage_error
from acontext_mcp.observe.summary import render_tasks
from acontext_mcp.observe.task_ops import session_tasks
from acontext_mcp.scrub import scrub_paths, scrub_stderr_logs
from acontext_mcp.skills import SKILL_FILE, catalog
from acontext_mcp.skills import defaults as skill_defaults
from acontext_mcp.skills import index as skill_index
from acontext_mcp.stdio_guard import guarded_stdio
from acontext_mcp.store import annotate, batches, skill_uses, turns
from acontext_mcp.store import sessions as session_store
from acontext_mcp.store import tasks as task_store
from acontext_mcp.store.db import ConnectionPool
from acontext_mcp.store.pages import decode_cursor, encode_cursor
from acontext_mcp.store.stats import store_stats

log = logging.getLogger("acontext.server")

INSTRUCTIONS = (
    "Local memory for this agent: store conversation turns, list tracked tasks, read learned "
    "skills (SKILL.md folders) and search files kept on named disks. Everything stays on "
    "this machine."
)

Format = Literal["openai", "anthropic", "gemini", "acontext"]
TaskStatus = Literal["pending", "running", "success", "failed"]
Json = dict[str, Any]
# Names that say it all go without a description: every byte here is in tools/list.
SessionId = str
Cursor = Annotated[str | None, Field(description="next_cursor of the last page")]
DiskName = str
FilePath = Annotated[str, Field(description="File path on the disk, e.g. /notes/todo.md")]

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
ADDITIVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
# delete (confirmed) and set_configs remove what was there
MANAGES = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)
OVERWRITES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

F = TypeVar("F", bound=Callable[..., Any])


def _tool_errors(fn: F, settings: Settings) -> F:
    """Translate domain and storage errors to ToolError; log anything unexpected with its
    traceback. What the model is shown never holds the data home's absolute path."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as exc:
            if (storage := storage_error(exc)) is not None:
                log.warning("tool %s: %s (%r)", fn.__name__, storage, exc)
                raise ToolError(str(storage)) from exc
            if isinstance(exc, AcontextError):
                raise ToolError(scrub_paths(str(exc), settings)) from exc
            log.exception("tool %s failed", fn.__name__)
            message = f"internal error ({type(exc).__name__}: {exc}); the server log has details"
            raise ToolError(scrub_paths(message, settings)) from exc

    return wrapper  # type: ignore[return-value]


def slim_schema(schema: Any, *, optional_args: bool = False) -> Any:
    """Drop what costs context and tells a model nothing: generated `title`s, the default
    `additionalProperties: true`, and, for input schemas (`optional_args`), the
    `anyOf [X, null]` + `default: null` spelling of an optional argument (omitting it means
    the same). Arguments are still validated by the full pydantic model; output schemas keep
    their nulls because clients validate results against them, but not `default: null`
    (validation never reads a default)."""
    if isinstance(schema, list):
        return [slim_schema(item, optional_args=optional_args) for item in schema]
    if not isinstance(schema, dict):
        return schema
    # A string "title" is a generated label; a property *named* title has a dict schema.
    out = {
        k: slim_schema(v, optional_args=optional_args)
        for k, v in schema.items()
        if not (k == "title" and isinstance(v, str))
        and not (k == "additionalProperties" and v is True)  # the JSON Schema default
        and not (k == "default" and v is None and optional_args is False)
    }
    variants = out.get("anyOf")
    if not isinstance(variants, list):
        variants = []
    nullable = len(variants) == 2 and {"type": "null"} in variants
    if optional_args and nullable and "default" in schema and schema["default"] is None:
        (kept,) = [v for v in variants if v != {"type": "null"}]
        del out["anyOf"]
        out.pop("default", None)
        out = {**kept, **out}
    return out


def paged_listing(listing: Json, limit: int, cursor: str | None) -> Json:
    """One page of a directory listing: directories first, then files, both sorted."""
    start = (decode_cursor(cursor, kind="disk_list") or {}).get("o", 0)
    dirs, files = listing["dirs"], listing["files"]
    window = range(start, start + limit)
    page = {
        "path": listing["path"],
        "dirs": [d for i, d in enumerate(dirs) if i in window],
        "files": [f for i, f in enumerate(files, len(dirs)) if i in window],
        "next_cursor": None,
    }
    if start + limit < len(dirs) + len(files):
        page["next_cursor"] = encode_cursor({"k": "disk_list", "o": start + limit})
    return page


# Methods MCPServer serves by default that we do not use: with no handler, initialize
# advertises no prompts and no subscriptions, and clients (OpenClaw turns each into a tool)
# show nothing empty. Resources are served: skill files (`skill://NAME/PATH`).
UNSERVED_METHODS = (
    "prompts/list",
    "prompts/get",
    "resources/subscribe",
    "resources/unsubscribe",
)

ResourcePage = Callable[[str | None], tuple[list[MCPResource], str | None]]


class SlimMCPServer(MCPServer):
    """MCPServer whose tools/list answer carries slimmed schemas (see `slim_schema`), whose
    stdio reader answers every line (see `stdio_guard`), which advertises tools and
    resources only, and whose resources/list is paged by `resource_page` (the SDK's lists
    everything registered at once, and skill files are many and change on disk)."""

    resource_page: ResourcePage | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        handlers = self._lowlevel_server._request_handlers  # no public way to drop one
        for method in UNSERVED_METHODS:
            handlers.pop(method, None)

    async def _handle_list_resources(
        self, ctx: Any, params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        page = self.resource_page
        if page is None:
            return await super()._handle_list_resources(ctx, params)
        cursor = params.cursor if params is not None else None
        try:
            resources, nxt = await anyio.to_thread.run_sync(page, cursor)
        except AcontextError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
        return ListResourcesResult(resources=resources, next_cursor=nxt)

    async def read_resource(
        self, uri: Any, context: Any = None
    ) -> Any:  # Iterable[ReadResourceContents] | InputRequiredResult
        """Label each read by its file name's type (SKILL.md is text/markdown, a script
        text/x-python), not by the one type a template declares."""
        out = await super().read_resource(uri, context)
        if isinstance(out, InputRequiredResult):
            return out
        guessed = mimetypes.guess_type(str(uri).rsplit("/", 1)[-1])[0]
        return [
            ReadResourceContents(c.content, guessed or c.mime_type, c.meta) if guessed else c
            for c in out
        ]

    async def run_stdio_async(self) -> None:
        low = self._lowlevel_server
        async with guarded_stdio() as (read_stream, write_stream):
            await low.run(read_stream, write_stream, low.create_initialization_options())

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Any = None
    ) -> CallToolResult | InputRequiredResult:
        """Refuse arguments the tool does not take, and say in plain words which argument is
        wrong and what to send instead (see `tool_args`)."""
        tool = self._tool_manager.get_tool(name)
        if tool is not None and (
            unknown := tool_args.unknown_arguments(name, arguments, tool.parameters)
        ):
            raise ToolError(f"Error executing tool {name}: {unknown}")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if tool is None or not isinstance(cause, ValidationError):
                raise
            plain = tool_args.explain(cause, tool.parameters)
            raise ToolError(f"Error executing tool {name}: {plain}") from cause

    async def list_tools(self) -> list[MCPTool]:
        slimmed = []
        for tool in await super().list_tools():
            output = slim_schema(tool.output_schema)
            slimmed.append(
                tool.model_copy(
                    update={
                        "input_schema": slim_schema(tool.input_schema, optional_args=True),
                        # "any object" tells a client nothing: leave it out
                        "output_schema": None if output == {"type": "object"} else output,
                    }
                )
            )
        return slimmed


# --- Output shapes (kept lean: every field here is sent in tools/list) ---


class StoredTurn(BaseModel):
    session_id: str | None  # None only when capture is off and no session was named
    session_created: bool
    message_ids: list[int]
    stored: int
    duplicates: int
    capture_off: str | None = None  # set when a capture switch kept the whole turn out


class SessionPage(BaseModel):
    sessions: list[Json]
    next_cursor: str | None = None


class MessagePage(BaseModel):
    # `events` (and `events_omitted`) ride along undeclared when include_events asks for
    # them: the output schema stays as small as it was (extra keys are valid JSON Schema).
    model_config = ConfigDict(extra="allow")

    session_id: str
    format: str
    messages: list[Json]
    message_ids: list[int | None]  # None: an interleaved event
    next_cursor: str | None = None
    edited: Json | None = None


class TaskPage(BaseModel):
    tasks: list[Json]
    next_cursor: str | None = None


class SkillList(BaseModel):
    skills: list[Json]
    next_cursor: str | None = None


class SkillSearch(BaseModel):
    results: list[Json]


def _flush() -> Callable[[Settings, str, float], Json]:
    """The worker's flush, imported on first use (it pulls in the LLM providers)."""
    try:
        from acontext_mcp.app.flush import flush_session
    except ModuleNotFoundError as exc:
        if exc.name not in ("acontext_mcp.app", "acontext_mcp.app.flush"):
            raise
        raise ToolError(
            "flush_session is unavailable: this installation has no background worker "
            "(acontext_mcp.app.flush); upgrade acontext-mcp"
        ) from exc
    return flush_session


RESOURCES_PAGE = 100  # skill files per resources/list page
INDEX_REFRESH_S = 2.0  # without inotify, edits made in place are seen this long after


def _current_index(settings: Settings, state: dict[str, Any]) -> skill_index.Keeper:
    """The skills index, in step with the files: re-reads only what changed since the last
    search (skills/index.Keeper), so the first search after an edit finds it."""
    with state["lock"]:
        if "index" not in state:
            state["index"] = skill_index.Keeper(settings, full_every=INDEX_REFRESH_S)
        keeper: skill_index.Keeper = state["index"]
    keeper.ensure_current()
    return keeper


def _latest_session(pool: Callable[[], ConnectionPool]) -> str:
    from acontext_mcp.learn.pipeline import current_session

    with pool().connection() as conn:
        found = current_session(conn, os.getcwd())
    if found is None:
        raise ToolError("no session has been captured yet; nothing to learn from")
    return found


DELETED_COUNTS = ("sessions", "messages", "tasks", "events", "learnings", "blobs")


def _create_session(
    conn: Any, session_id: str | None, configs: Json | None, user: str | None
) -> Json:
    """manage_session's create: a new session (of `agent` mcp) with configs and a user."""
    session_store.check_user(user)
    if configs is not None:
        session_store.check_configs(configs)
    sid, created = session_store.ensure_session(conn, session_id, user=user, configs=configs)
    if not created:
        raise ToolError(f"session {sid!r} exists already; omit session_id for a new one")
    return {"session_id": sid, "configs": configs or {}, "user": user}


def build_server(settings: Settings) -> MCPServer:
    """An MCPServer bound to one data home; the pool opens lazily on first use."""
    opening = threading.Lock()  # sync tools run in worker threads: open the pool once
    preparing = threading.Lock()
    state: dict[str, Any] = {"lock": opening}

    def pool() -> ConnectionPool:
        with opening:
            if "pool" not in state:
                state["pool"] = ConnectionPool(settings)
            return state["pool"]

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            if "pool" in state:
                state.pop("pool").close()
            if "index" in state:
                state.pop("index").close()  # its inotify watch

    server = SlimMCPServer(
        "acontext-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        subscriptions=False,  # the tool list never changes: nothing to listen for
    )

    def tool(description: str, annotations: ToolAnnotations) -> Callable[[F], F]:
        def register(fn: F) -> F:
            server.tool(description=description, annotations=annotations)(
                _tool_errors(fn, settings)
            )
            return fn

        return register

    # --- Turns, sessions, tasks ---

    @tool(
        "Store conversation messages (secrets redacted; skipped while capture is off); creates "
        "the session if new.",
        ADDITIVE,
    )
    def store_turn(
        messages: Annotated[list[Json], Field(description="Messages in the given format")],
        format: Format = "openai",
        session_id: Annotated[str | None, Field(description="Omit to start a session")] = None,
        meta: Annotated[
            Json | None,
            Field(description="Metadata kept with each message; idempotency_key dedups"),
        ] = None,
        user: Annotated[str | None, Field(description="Session's user")] = None,
    ) -> StoredTurn:
        with pool().connection() as conn:
            result = turns.store_turn(
                conn,
                settings,
                messages,
                fmt=format,
                session_id=session_id,
                meta=meta,
                user=user,
                workdir=os.getcwd(),  # the agent's project: its project switch applies
            )
        return StoredTurn(**result)

    @tool("List sessions, most recently active first.", READ_ONLY)
    def list_sessions(
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
        cursor: Cursor = None,
        project_dir: Annotated[str | None, Field(description="Only this project")] = None,
        user: Annotated[str | None, Field(description="Only this user's")] = None,
        configs: Annotated[Json | None, Field(description="Only with these configs")] = None,
    ) -> SessionPage:
        with pool().connection() as conn:
            page = session_store.list_sessions(
                conn,
                limit=limit,
                cursor=cursor,
                project_dir=project_dir,
                user=user,
                configs=configs,
            )
        for s in page["sessions"]:
            s.pop("configs", None)
        return SessionPage(**page)

    @tool(
        "Create (configs, user), copy, delete (confirm=true) a session; "
        "get/set/patch_configs (null deletes).",
        MANAGES,
    )
    def manage_session(
        action: Literal["create", "copy", "delete", "get_configs", "set_configs", "patch_configs"],
        session_id: Annotated[str | None, Field(description="Omit to create")] = None,
        configs: Json | None = None,
        user: str | None = None,
        confirm: bool = False,
    ) -> Json:
        from acontext_mcp.app import sessions as session_admin

        with pool().connection() as conn:
            if action == "create":
                return _create_session(conn, session_id, configs, user)
            if session_id is None:
                raise ToolError(f"{action} needs session_id (list_sessions shows them)")
            if action == "copy":
                return session_admin.copy_session(conn, session_id)
            if action == "delete":
                if not confirm:
                    would = session_admin.delete_session(conn, settings, session_id, dry_run=True)
                    raise ToolError(
                        f"deleting cannot be undone: it would remove {would['sessions']} "
                        f"session(s), {would['messages']} messages, {would['tasks']} tasks, "
                        f"{would['events']} events; call again with confirm=true"
                    )
                out = session_admin.delete_session(conn, settings, session_id)
                return {k: out[k] for k in (*DELETED_COUNTS, "session_ids")}
            if action == "get_configs":
                return {
                    "session_id": session_id,
                    "configs": session_store.get_configs(conn, session_id),
                }
            if configs is None:
                raise ToolError(f"{action} needs configs (an object of key: value)")
            merged = session_store.set_configs(
                conn, session_id, configs, patch=action == "patch_configs"
            )
            return {"session_id": session_id, "configs": merged}

    @tool("Read a session's messages, oldest first, converted to a format.", READ_ONLY)
    def get_messages(
        session_id: SessionId,
        format: Format = "openai",
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
        cursor: Cursor = None,
        include_binary: Annotated[
            bool, Field(description="Inline image/file bytes (default: acontext-blob: refs)")
        ] = False,
        edits: Annotated[
            list[Json] | None,
            Field(
                description='Edit this copy, e.g. [{"type":"token_limit","params":'
                '{"limit_tokens":8000}}]; also remove_tool_result, remove_tool_call_params, '
                "middle_out"
            ),
        ] = None,
        pin_editing_strategies_at_message: Annotated[
            int | None, Field(description="Edit only up to this message id (keeps prompt cache)")
        ] = None,
        include_events: Literal["none", "beside", "interleave"] = "none",
    ) -> MessagePage:
        with pool().connection() as conn:
            page = turns.read_messages(
                conn,
                settings,
                session_id,
                fmt=format,
                limit=limit,
                cursor=cursor,
                inline_binary=include_binary,
                edits=edits,
                pin=pin_editing_strategies_at_message,
            )
            page = annotate.add_events(conn, page, include_events)
        return MessagePage(**page)

    @tool("List tracked tasks of one session, or across recent sessions.", READ_ONLY)
    def list_tasks(
        session_id: Annotated[str | None, Field(description="Omit for all sessions")] = None,
        status: list[TaskStatus] | None = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
        cursor: Cursor = None,
    ) -> TaskPage:
        with pool().connection() as conn:
            if session_id is not None:
                session_store.get_session(conn, session_id)
            page = task_store.list_tasks(
                conn, session_id=session_id, status=status, limit=limit, cursor=cursor
            )
        return TaskPage(**page)

    @tool("Compact text of a session's tasks, progress and preferences.", READ_ONLY)
    def get_session_summary(session_id: SessionId) -> Json:
        with pool().connection() as conn:
            session_store.get_session(conn, session_id)
            tasks = session_tasks(conn, session_id)
            observing = batches.observing_status(conn, session_id)
        return {"session_id": session_id, "summary": render_tasks(tasks), "observing": observing}

    @tool(
        "Add a note or event (type, data) to a session, or merge meta into message_id's "
        "(null deletes).",
        ADDITIVE,
    )
    def annotate_session(
        session_id: SessionId,
        note: str | None = None,
        type: str | None = None,
        data: Json | None = None,
        message_id: int | None = None,
        meta: Json | None = None,
    ) -> Json:
        with pool().connection() as conn:
            if message_id is None and meta is None:
                return annotate.add_session_event(
                    conn,
                    settings,
                    session_id,
                    type_=type,
                    data=data,
                    note=note,
                    workdir=os.getcwd(),
                )
            if note is not None or type is not None or data is not None:
                raise ToolError("patch a message's meta or add an event, in separate calls")
            if message_id is None:
                raise ToolError("name the message_id whose meta to patch")
            return annotate.patch_message_meta(conn, settings, session_id, message_id, meta)

    @tool("Extract tasks from a session's new messages now; waits.", ADDITIVE)
    def flush_session(
        session_id: SessionId,
        timeout_s: Annotated[float, Field(ge=1, le=300, description="Max seconds to wait")] = 30,
    ) -> Json:
        with pool().connection() as conn:
            session_store.get_session(conn, session_id)
        return _flush()(settings, session_id, timeout_s)

    # --- Skills ---

    def skills_dir() -> Path:
        """The skills directory, with its repository and default skills made on first use
        (`defaults.ensure_ready`): tried once per server, then a stat or nothing."""
        if not state.get("skills_ready"):
            with preparing:  # tools run in threads: one of them creates it
                if not state.get("skills_ready"):
                    skill_defaults.ensure_ready(settings)
                    state["skills_ready"] = True
        return settings.skills_dir

    @tool("List learned skills with one-line descriptions.", READ_ONLY)
    def list_skills(
        limit: Annotated[int, Field(ge=1, le=500)] = 100, cursor: Cursor = None
    ) -> SkillList:
        skills = catalog.list_skills(skills_dir())
        start = (decode_cursor(cursor, kind="skills") or {}).get("o", 0)
        page = skills[start : start + limit]
        more = start + limit < len(skills)
        nxt = encode_cursor({"k": "skills", "o": start + limit}) if more else None
        return SkillList(skills=page, next_cursor=nxt)

    def note_uses(kind: str, uses: list[tuple[str, str | None, str | None]]) -> None:
        """Record skill uses for `skills stats` (no session: the MCP call names none). A
        store that cannot take the write costs the count, never the answer."""
        try:
            if pool().read_only:  # a read-only data home: the reads answer, nothing is counted
                return
            with pool().connection() as conn:
                skill_uses.record_uses(conn, uses, kind, project_dir=host_project_dir())
        except Exception as exc:
            log.warning("skill use not recorded (%s: %s)", type(exc).__name__, exc)

    @tool("Read a skill: its SKILL.md and file list.", READ_ONLY)
    def get_skill(name: Annotated[str, Field(description="Skill name")]) -> Json:
        found = catalog.get_skill(skills_dir(), name)
        note_uses("mcp_get", [(Path(found["path"]).name, SKILL_FILE, None)])
        return found

    @tool("Read one file of a skill.", READ_ONLY)
    def get_skill_file(
        name: Annotated[str, Field(description="Skill name")],
        path: Annotated[str, Field(description="Path inside the skill, e.g. SKILL.md")],
    ) -> Json:
        found = catalog.get_skill_file(skills_dir(), name, path)
        note_uses("mcp_file", [(name, found["path"], None)])
        return found

    @tool("Ranked full-text search of skills; returns matching files.", READ_ONLY)
    def search_skills(
        query: Annotated[str, Field(description="Words to find")],
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> SkillSearch:
        skills_dir()
        keeper = _current_index(settings, state)
        results = keeper.search_by_skill(query, limit=limit)
        if results:
            note_uses("mcp_search", [(r["name"], None, None) for r in results])
        return SkillSearch(results=results)

    # --- Skills as resources: skill://NAME/PATH ---

    def resource_page(cursor: str | None) -> tuple[list[MCPResource], str | None]:
        """One page of skill files as resources, in skill and path order."""
        start = (decode_cursor(cursor, kind="resources") or {}).get("o", 0)
        found = list(
            itertools.islice(catalog.skill_files(skills_dir()), start, start + RESOURCES_PAGE + 1)
        )
        page = [
            MCPResource(
                uri=f"skill://{quote(name)}/{quote(path)}",
                name=f"{name}/{path}",
                mime_type=mimetypes.guess_type(path)[0] or "text/plain",
                size=size,
            )
            for name, path, size in found[:RESOURCES_PAGE]
        ]
        more = len(found) > RESOURCES_PAGE
        nxt = encode_cursor({"k": "resources", "o": start + RESOURCES_PAGE}) if more else None
        return page, nxt

    server.resource_page = resource_page

    @server.resource(
        "skill://{name}/{+path}",
        name="skill-file",
        description="A file of a learned skill, e.g. skill://NAME/SKILL.md",
        mime_type="text/plain",
    )
    def read_skill_resource(name: str, path: str) -> str:
        try:
            found = catalog.get_skill_file(skills_dir(), name, path)
        except AcontextError as exc:  # the caller's to fix: a missing file, a link refused
            raise MCPError(code=INVALID_PARAMS, message=scrub_paths(str(exc), settings)) from exc
        note_uses("mcp_file", [(name, found["path"], None)])
        return str(found["content"])

    # --- Learning ---

    @tool("Learn skills from a session's finished tasks.", ADDITIVE)
    def learn_now(
        session_id: Annotated[str | None, Field(description="Default: latest here")] = None,
        wait_s: Annotated[float, Field(ge=0, le=600, description="Seconds to wait")] = 0,
    ) -> Json:
        from acontext_mcp.app import learning

        sid = session_id or _latest_session(pool)
        if wait_s > 0:
            return learning.learn_session(settings, sid, timeout_s=wait_s)
        return learning.learn_later(settings, sid)

    @tool("Learning status per session: pending, running, completed, failed.", READ_ONLY)
    def learning_status(
        session_id: Annotated[str | None, Field(description="Omit for recent ones")] = None,
    ) -> Json:
        from acontext_mcp.store import learning

        with pool().connection() as conn:
            if session_id is not None:
                return learning.session_status(conn, session_id)
            return {"sessions": learning.recent_statuses(conn, limit=10)}

    # --- Disks ---

    @tool("Find files on a disk by gitignore-style glob (e.g. **/*.md).", READ_ONLY)
    def disk_glob(
        pattern: Annotated[str, Field(description="Glob, e.g. **/*.md")],
        disk: DiskName = "default",
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> Json:
        return disk_search.glob(settings, disk, pattern, limit=limit)

    @tool("Search file contents on a disk by Python regex; returns matching lines.", READ_ONLY)
    def disk_grep(
        pattern: Annotated[str, Field(description="Python regex")],
        glob: Annotated[str | None, Field(description="Only files matching this glob")] = None,
        disk: DiskName = "default",
        ignore_case: bool = False,
        context: Annotated[int, Field(ge=0, le=20, description="Lines around each hit")] = 0,
        max_results: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> Json:
        return disk_search.grep(
            settings,
            disk,
            pattern,
            glob=glob,
            ignore_case=ignore_case,
            context=context,
            max_results=max_results,
        )

    @tool("Read a text file from a disk, by line range.", READ_ONLY)
    def disk_read(
        path: FilePath,
        disk: DiskName = "default",
        offset: Annotated[int, Field(ge=0, description="First line, 0-based")] = 0,
        limit: Annotated[int, Field(ge=1, le=5000, description="Lines to return")] = 200,
    ) -> Json:
        with pool().connection() as conn:
            return disk_files.read_file(conn, settings, disk, path, offset=offset, limit=limit)

    @tool("Write a text file to a disk (creates or replaces it).", OVERWRITES)
    def disk_write(
        path: FilePath,
        content: Annotated[str, Field(description="Full new text of the file")],
        disk: DiskName = "default",
    ) -> Json:
        with pool().connection() as conn:
            return disk_files.write_file(conn, settings, disk, path, content)

    @tool("List a directory on a disk.", READ_ONLY)
    def disk_list(
        path: Annotated[str, Field(description="Directory; / is the disk root")] = "/",
        disk: DiskName = "default",
        limit: Annotated[int, Field(ge=1, le=1000)] = 200,
        cursor: Cursor = None,
    ) -> Json:
        with pool().connection() as conn:
            listing = disk_files.list_dir(conn, settings, disk, path)
        return paged_listing(listing, limit, cursor)

    @tool("Counts and sizes of everything stored.", READ_ONLY)
    def stats() -> Json:
        with pool().connection() as conn:
            out = store_stats(conn, settings)
        out["skills"] = len(catalog.list_skills(skills_dir()))
        out["home"] = str(settings.home)
        return out

    return server


def serve(settings: Settings) -> None:
    """Run over stdio until the client goes away."""
    server = build_server(settings)
    scrub_stderr_logs(settings)
    log.info("serving %s over stdio (home %s)", __version__, settings.home)
    server.run("stdio")

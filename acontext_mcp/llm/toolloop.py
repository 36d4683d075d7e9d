"""The one LLM tool loop behind the task agent and the skill learner.

Both loops follow the same rules, so they live here once:

- Each round sends the conversation and answers every tool call of the reply, in call order.
- A call's arguments are normalized (see `normalize_arguments`) and then checked against the
  tool's own JSON Schema; a call that fails the check is refused with the schema's complaint,
  and the model is told, without running the handler.
- A handler returns a typed `ToolResult` (ok, or refused with a reason). An `AcontextError` it
  raises is a refusal too; anything else is a bug and propagates. A refused call leaves no
  change behind inside `call_scope` (the task agent's savepoint).
- An optional required first tool (the learner's `report_thinking`): until it has succeeded,
  every tool not marked `ungated` is refused.
- `finish` is answered after the turn's other calls: refused when the caller's check says so
  (the learner's invalid skills) or when another call of the turn was refused, so the model
  sees the problems and may fix them; a refused finish keeps the loop going.
- A reply without tool calls ends the loop; it counts as finished when the finish check passes.
- The loop stops after `max_rounds` whatever happens.

On the wire a refusal reads "Error: <reason>" with `is_error` set; nothing in the code decides
anything by looking at that prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.errors import AcontextError
from acontext_mcp.llm import Provider, ToolCall, ToolSpec, assistant_message, tool_result

FINISH = "finish"
FINISHED = "Finished"


@dataclass(frozen=True)
class ToolResult:
    """What a tool did: `ok` with the answer for the model, or refused with the reason."""

    ok: bool
    text: str

    @classmethod
    def done(cls, text: str) -> ToolResult:
        return cls(True, text)

    @classmethod
    def refused(cls, reason: str) -> ToolResult:
        return cls(False, reason)

    def wire_text(self) -> str:
        """The text the model reads: the answer, or "Error: <reason>"."""
        return self.text if self.ok else f"Error: {self.text}"


Handler = Callable[[dict[str, Any]], ToolResult]


@dataclass(frozen=True)
class Tool:
    """A tool of one loop: its spec (name, description, JSON Schema) and its handler, which
    gets the checked arguments. `ungated` tools (reads) run before the required first tool."""

    spec: ToolSpec
    handler: Handler
    ungated: bool = False

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class LoopRun:
    """What one loop did. `finished` is False when the rounds ran out first or the last
    reply had no tool calls while the finish check failed."""

    finished: bool = False
    rounds: int = 0
    tool_calls: int = 0  # every call answered, finish included
    refused: int = 0  # calls refused, finish not counted
    last_refusal: str = ""  # wire text of the last refused call or finish check
    input_tokens: int = 0
    output_tokens: int = 0


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def normalize_arguments(spec: ToolSpec, arguments: dict[str, Any]) -> dict[str, Any]:
    """What the loops always forgave, applied before the schema check: a null value counts as
    absent and arguments the schema does not declare are ignored (both loops), a quoted or
    integral-float number is taken for an integer and a lone integer for a list of integers
    (the task agent's; the learner's tools take only strings)."""
    props: dict[str, Any] = spec.parameters.get("properties", {})
    out: dict[str, Any] = {}
    for name, value in arguments.items():
        schema = props.get(name)
        if schema is None or value is None:
            continue
        kind = schema.get("type")
        quoted = isinstance(value, str) and value.strip().lstrip("-").isdigit()
        if kind == "integer" and (quoted or (isinstance(value, float) and value.is_integer())):
            value = int(value)
        elif (
            kind == "array" and _integer(value) and schema.get("items", {}).get("type") == "integer"
        ):
            value = [value]
        out[name] = value
    return out


_ARTICLE = {"integer": "an integer", "array": "a list", "object": "an object"}


def _describe(spec: ToolSpec, error: Any) -> str:
    """A schema complaint (a jsonschema ValidationError) in words the model can act on."""
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = [n for n in error.validator_value if n not in (error.instance or {})]
        return f"{spec.name} needs {', '.join(repr(n) for n in missing)}"
    if error.validator == "type" and where:
        wanted = error.validator_value
        if wanted == "array" and error.schema.get("items", {}).get("type") == "integer":
            shown = "a list of integers"
        elif isinstance(wanted, str):
            shown = _ARTICLE.get(wanted, f"a {wanted}")
        else:
            shown = " or ".join(wanted)
        return f"{spec.name}: {where} must be {shown}, got {error.instance!r}"
    if error.validator == "enum" and where:
        return f"{spec.name}: {where} must be one of {error.validator_value}"
    return f"{spec.name}: {where + ': ' if where else ''}{error.message}"


def check_arguments(spec: ToolSpec, arguments: Any) -> tuple[dict[str, Any], str | None]:
    """(normalized arguments, None) when they satisfy the tool's JSON Schema, else
    ({}, the reason in words)."""
    if not isinstance(arguments, dict):
        return {}, f"{spec.name} takes a JSON object of arguments"
    # Imported here: about 0.1 s that the processes which never run a loop (the CLI, the
    # doctor, the server) need not pay.
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    args = normalize_arguments(spec, arguments)
    error = best_match(Draft202012Validator(spec.parameters).iter_errors(args))
    if error is not None:
        return {}, _describe(spec, error)
    return args, None


class _Refusal(Exception):
    """Carries a handler's refusal out of `call_scope`, so the scope rolls back."""

    def __init__(self, result: ToolResult) -> None:
        super().__init__(result.text)
        self.result = result


@dataclass
class ToolLoop:
    """One configured loop; `run` drives it over a first user message.

    `tools` are sent in their order and must include the `finish` tool, whose handler is the
    finish check (ok: finished; refused: the reason, and the loop goes on). `not_finished` is
    the answer to a finish in a turn with a refused call. `round_scope` wraps the tool calls
    of one round and `call_scope` each call (the task agent's transaction and savepoint).
    """

    system: str
    tools: list[Tool]
    purpose: str
    max_rounds: int
    max_tokens: int
    not_finished: str
    required_first: str | None = None
    required_first_why: str = ""
    round_scope: Callable[[], AbstractContextManager[Any]] = nullcontext
    call_scope: Callable[[], AbstractContextManager[Any]] = nullcontext
    _by_name: dict[str, Tool] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {t.name: t for t in self.tools}
        if FINISH not in self._by_name:
            raise ValueError("a tool loop needs a finish tool")
        if self.required_first is not None and self.required_first not in self._by_name:
            raise ValueError(f"required first tool {self.required_first!r} is not a tool")

    def run(self, provider: Provider, prompt: str, *, session_id: str | None = None) -> LoopRun:
        """Run up to `max_rounds` rounds from `prompt`. Provider errors (LLMUnavailable)
        propagate as they are."""
        run = LoopRun()
        specs = [t.spec for t in self.tools]
        finish = self._by_name[FINISH]
        opened = self.required_first is None
        convo: list[dict[str, Any]] = [
            {"role": "user", "parts": [{"type": "text", "text": prompt}]}
        ]
        for _ in range(self.max_rounds):
            reply = provider.complete(
                system=self.system,
                messages=convo,
                tools=specs,
                purpose=self.purpose,
                session_id=session_id,
                max_tokens=self.max_tokens,
            )
            run.rounds += 1
            run.input_tokens += reply.input_tokens
            run.output_tokens += reply.output_tokens
            if not reply.tool_calls:
                # Said in words that it is done: finished only if the finish check agrees.
                verdict = finish.handler({})
                run.finished = verdict.ok
                if not verdict.ok:
                    run.last_refusal = verdict.wire_text()
                break
            answers: list[ToolResult | None] = []  # None: a finish, answered after the turn
            with self.round_scope():
                for call in reply.tool_calls:
                    run.tool_calls += 1
                    if call.name == FINISH:
                        answers.append(None)
                        continue
                    result = self._answer(call, opened)
                    if result.ok and call.name == self.required_first:
                        opened = True
                    if not result.ok:
                        run.refused += 1
                        run.last_refusal = result.wire_text()
                    answers.append(result)
            finish_text = ""
            if None in answers:
                verdict = finish.handler({})
                if not verdict.ok:
                    finish_text = run.last_refusal = verdict.wire_text()
                elif any(a is not None and not a.ok for a in answers):
                    finish_text = self.not_finished
                else:
                    finish_text = verdict.text
                    run.finished = True
            parts = [
                tool_result(call, a.wire_text(), is_error=not a.ok)
                if a is not None
                else tool_result(call, finish_text, is_error=not run.finished)
                for call, a in zip(reply.tool_calls, answers, strict=True)
            ]
            convo.append(assistant_message(reply))
            convo.append({"role": "user", "parts": parts})
            if run.finished:
                break
        return run

    def _answer(self, call: ToolCall, opened: bool) -> ToolResult:
        """One call's result: refused before the handler when the call is malformed, unknown,
        gated or its arguments fail the schema; else what the handler says."""
        if call.error:
            return ToolResult.refused(
                f"arguments were not a JSON object ({call.error}); send valid JSON"
            )
        tool = self._by_name.get(call.name)
        if tool is None:
            names = ", ".join(self._by_name)
            return ToolResult.refused(f"unknown tool {call.name!r}; use one of: {names}")
        if not opened and not tool.ungated and tool.name != self.required_first:
            why = f" {self.required_first_why}" if self.required_first_why else ""
            return ToolResult.refused(f"{call.name} refused: call {self.required_first} first{why}")
        args, problem = check_arguments(tool.spec, call.arguments)
        if problem is not None:
            return ToolResult.refused(problem)
        try:
            with self.call_scope():
                result = tool.handler(args)
                if not result.ok:
                    raise _Refusal(result)  # the scope rolls back what the refused call did
        except _Refusal as refusal:
            return refusal.result
        except AcontextError as exc:
            return ToolResult.refused(str(exc))
        return result

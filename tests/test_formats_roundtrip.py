"""Across formats: chains through the internal form, the public entry, and store helpers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import convert

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
FORMATS = ("openai", "anthropic", "gemini")
PLACEHOLDER = re.compile(r"^\[(image|audio|file)(: .*)?\]$")


def load(fmt: str) -> list[dict]:
    return json.loads((FIXTURES / f"{fmt}_coding.json").read_text())


def parts(messages: list[dict]):
    for message in messages:
        for part in message["parts"]:
            yield message["role"], part


def said(messages: list[dict]) -> list[tuple[str, str]]:
    """Who said what: text and thinking, without placeholders standing in for media."""
    return [
        (role, p["text"])
        for role, p in parts(messages)
        if p["type"] in ("text", "thinking") and not PLACEHOLDER.match(p["text"])
    ]


def calls(messages: list[dict]) -> list[tuple[str, str, object]]:
    return [
        (p["id"], p["name"], json.loads(p["arguments"]))
        for _, p in parts(messages)
        if p["type"] == "tool-call"
    ]


def results(messages: list[dict], *, errors: bool = True) -> list[tuple]:
    out = []
    for _, p in parts(messages):
        if p["type"] == "tool-result":
            texts = [c["text"] for c in p["content"] if c["type"] == "text"]
            text = "\n".join(t for t in texts if not PLACEHOLDER.match(t))
            out.append((p["tool_call_id"], text, bool(p.get("is_error")) and errors))
    return out


def images(messages: list[dict], *, nested: bool = True) -> list[tuple[str, dict]]:
    found = []
    for role, p in parts(messages):
        inner = p["content"] if p["type"] == "tool-result" and nested else [p]
        found.extend((role, c["source"]) for c in inner if c["type"] == "image")
    return found


def through(internal: list[dict], fmt: str) -> list[dict]:
    return convert.to_internal(convert.from_internal(internal, fmt), fmt)


class TestChains:
    @pytest.mark.parametrize("source", FORMATS)
    @pytest.mark.parametrize("target", FORMATS)
    def test_internal_to_any_format_and_back_keeps_what_matters(self, source, target):
        internal = convert.to_internal(load(source), source)
        back = through(internal, target)
        assert said(back) == said(internal)
        assert calls(back) == calls(internal)
        assert results(back, errors=target != "openai") == results(
            internal, errors=target != "openai"
        )
        # OpenAI tool messages cannot hold images; everywhere else they survive.
        assert images(back, nested=target != "openai") == images(
            internal, nested=target != "openai"
        )

    def test_openai_to_anthropic_to_gemini_and_back_to_openai(self):
        raw = load("openai")
        internal = convert.to_internal(raw, "openai")
        for fmt in ("anthropic", "gemini"):
            internal = through(internal, fmt)
        out = convert.from_internal(internal, "openai")
        calls_in = [c for m in raw for c in m.get("tool_calls", [])]
        calls_out = [c for m in out for c in m.get("tool_calls", [])]
        assert [c["id"] for c in calls_out] == [c["id"] for c in calls_in]
        assert [c["function"]["name"] for c in calls_out] == [
            c["function"]["name"] for c in calls_in
        ]
        args_in = [json.loads(c["function"]["arguments"]) for c in calls_in]
        assert [json.loads(c["function"]["arguments"]) for c in calls_out] == args_in
        tool_ids = [m["tool_call_id"] for m in out if m["role"] == "tool"]
        assert tool_ids == [m["tool_call_id"] for m in raw if m["role"] == "tool"]
        assert out[0] == {"role": "user", "content": raw[0]["content"]}  # system survives as text

    def test_a_tool_call_id_is_the_same_in_every_format(self):
        internal = convert.to_internal(load("anthropic"), "anthropic")
        ids = [p["id"] for _, p in parts(internal) if p["type"] == "tool-call"]
        oai = convert.from_internal(internal, "openai")
        ant = convert.from_internal(internal, "anthropic")
        gem = convert.from_internal(internal, "gemini")
        assert [c["id"] for m in oai for c in m.get("tool_calls", [])] == ids
        blocks = [b for m in ant if isinstance(m["content"], list) for b in m["content"]]
        assert [b["id"] for b in blocks if b["type"] == "tool_use"] == ids
        gem_parts = [p for m in gem for p in m["parts"]]
        assert [p["functionCall"]["id"] for p in gem_parts if "functionCall" in p] == ids
        assert [p["functionResponse"]["id"] for p in gem_parts if "functionResponse" in p] == ids

    def test_system_role_survives_openai_but_becomes_user_elsewhere(self):
        internal = convert.to_internal([{"role": "system", "content": "Be brief."}], "openai")
        assert convert.from_internal(internal, "openai") == [
            {"role": "system", "content": "Be brief."}
        ]
        assert convert.from_internal(internal, "anthropic") == [
            {"role": "user", "content": [{"type": "text", "text": "Be brief."}]}
        ]
        assert convert.from_internal(internal, "gemini") == [
            {"role": "user", "parts": [{"text": "Be brief."}]}
        ]

    def test_opaque_parts_return_only_to_their_own_format(self):
        internal = convert.to_internal(load("anthropic"), "anthropic")
        out = convert.from_internal(internal, "gemini")
        assert "server_tool_use" not in json.dumps(out)
        assert "server_tool_use" in json.dumps(convert.from_internal(internal, "anthropic"))

    @pytest.mark.parametrize("source", FORMATS)
    @pytest.mark.parametrize("target", FORMATS)
    def test_every_conversion_gives_valid_internal_messages(self, source, target):
        for i, message in enumerate(through(convert.to_internal(load(source), source), target)):
            convert.validate_internal(message, f"messages[{i}]")


class TestStoreFlow:
    def test_a_gemini_call_and_its_response_arriving_in_separate_requests_pair_up(self):
        stored = convert.to_internal(
            [{"role": "model", "parts": [{"functionCall": {"name": "ls", "args": {"d": "."}}}]}],
            "gemini",
        )
        reply = [{"role": "user", "parts": [{"functionResponse": {"name": "ls", "response": {}}}]}]
        fresh = convert.to_internal(reply, "gemini", open_calls=convert.open_tool_calls(stored))
        assert fresh[0]["parts"][0]["tool_call_id"] == stored[0]["parts"][0]["id"]
        assert convert.open_tool_calls([*stored, *fresh]) == []
        for part in fresh[0]["parts"]:
            part.pop("name")  # as if the result came from a format that does not name it
        out = convert.from_internal(fresh, "gemini", call_names=convert.tool_call_names(stored))
        assert out[0]["parts"][0]["functionResponse"]["name"] == "ls"

    def test_open_tool_calls_lists_unanswered_calls_oldest_first(self):
        internal = convert.to_internal(load("openai"), "openai")
        assert convert.open_tool_calls(internal) == []
        assert convert.open_tool_calls(internal[:4]) == [
            ("call_9xQe2LwTt0", "read_file"),
            ("call_9xQe2LwTt1", "read_file"),
        ]
        assert convert.open_tool_calls(internal[:5]) == [("call_9xQe2LwTt1", "read_file")]

    def test_tool_call_names_maps_every_call_id_to_its_tool(self):
        internal = convert.to_internal(load("openai"), "openai")
        assert convert.tool_call_names(internal) == {
            "call_9xQe2LwTt0": "read_file",
            "call_9xQe2LwTt1": "read_file",
            "call_Rk3mZ8aa2": "run_tests",
            "call_Ed1tF1le7": "edit_file",
        }

    def test_keyword_arguments_a_format_does_not_use_are_ignored(self):
        messages = [{"role": "user", "content": "hi"}]
        assert convert.to_internal(messages, "anthropic", open_calls=[("a", "f")])
        internal = convert.to_internal(messages, "openai", open_calls=[])
        assert convert.from_internal(internal, "openai", call_names={}) == messages

    def test_unknown_keyword_arguments_are_a_programming_error(self):
        with pytest.raises(TypeError, match="open_call"):
            convert.to_internal([], "gemini", open_call=[])
        with pytest.raises(TypeError, match="open_calls"):
            convert.from_internal([], "gemini", open_calls=[])


class TestAcontextFormat:
    def test_internal_messages_pass_through_validated(self):
        internal = convert.to_internal(load("anthropic"), "anthropic")
        assert convert.to_internal(internal, "acontext") == internal
        assert convert.from_internal(internal, "acontext") == internal

    def test_an_unknown_format_is_refused_with_the_choices(self):
        with pytest.raises(InvalidInput, match="unknown format 'claude'; use one of openai"):
            convert.to_internal([], "claude")
        with pytest.raises(InvalidInput, match="unknown format"):
            convert.from_internal([], "xml")

    @pytest.mark.parametrize(
        ("message", "error"),
        [
            ("hi", r"^messages\[0\]: must be an object"),
            ({"parts": []}, r"^messages\[0\]: missing role"),
            ({"role": "tool", "parts": []}, r"^messages\[0\]\.role: unknown role 'tool'"),
            ({"role": "user", "parts": "hi"}, r"^messages\[0\]\.parts: must be a list"),
            ({"role": "user", "parts": [], "id": "m1"}, r"unknown key 'id'; a message has role"),
            ({"role": "user", "parts": [], "meta": []}, r"^messages\[0\]\.meta: must be an object"),
            ({"role": "user", "parts": ["hi"]}, r"parts\[0\]: must be an object with a type"),
            (
                {"role": "user", "parts": [{"type": "video"}]},
                r"parts\[0\]\.type: unknown part type",
            ),
            ({"role": "user", "parts": [{"type": "text"}]}, r"a text part needs a string text"),
            (
                {"role": "user", "parts": [{"type": "image", "source": {"kind": "file"}}]},
                r"parts\[0\]\.source\.kind: must be base64, url or blob",
            ),
            (
                {"role": "user", "parts": [{"type": "image", "source": {"kind": "url"}}]},
                r"parts\[0\]\.source: a url source needs a string url",
            ),
            (
                {"role": "user", "parts": [{"type": "file"}]},
                r"parts\[0\]\.source: must be an object",
            ),
            (
                {
                    "role": "assistant",
                    "parts": [{"type": "tool-call", "id": "", "name": "f", "arguments": "{}"}],
                },
                r"parts\[0\]\.id: must be a non-empty string",
            ),
            (
                {"role": "assistant", "parts": [{"type": "tool-call", "id": "a", "name": "f"}]},
                r"a tool-call part needs a string arguments",
            ),
            (
                {"role": "user", "parts": [{"type": "tool-result", "tool_call_id": "a"}]},
                r"parts\[0\]\.content: must be a list",
            ),
            (
                {
                    "role": "user",
                    "parts": [
                        {
                            "type": "tool-result",
                            "tool_call_id": "a",
                            "content": [{"type": "thinking", "text": "x"}],
                        }
                    ],
                },
                r"parts\[0\]\.content\[0\]\.type: unknown part type 'thinking'",
            ),
            (
                {
                    "role": "user",
                    "parts": [
                        {"type": "tool-result", "tool_call_id": "a", "content": [], "is_error": 1}
                    ],
                },
                r"parts\[0\]\.is_error: must be true or false",
            ),
            (
                {"role": "user", "parts": [{"type": "opaque", "source_format": "x"}]},
                r"needs a value",
            ),
            (
                {"role": "user", "parts": [{"type": "thinking", "text": "t", "signature": 1}]},
                r"parts\[0\]\.signature: must be a string",
            ),
        ],
    )
    def test_malformed_internal_messages_are_refused(self, message, error):
        with pytest.raises(InvalidInput, match=error):
            convert.to_internal([message], "acontext")

    def test_a_non_list_is_refused_for_every_format(self):
        for fmt in (*FORMATS, "acontext"):
            with pytest.raises(InvalidInput, match=r"^messages: must be a list"):
                convert.to_internal({"role": "user"}, fmt)  # type: ignore[arg-type]


def test_importing_the_converters_loads_no_heavy_dependencies():
    code = (
        "import sys, acontext_mcp.formats.convert; "
        "print(sorted(m for m in ('pydantic', 'openai', 'anthropic', 'mcp', 'asyncio') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

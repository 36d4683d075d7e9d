"""OpenAI Chat Completions messages to and from the internal form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import openai

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"


def load(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def one(message: dict, **kw) -> dict:
    [internal] = openai.to_internal([message], **kw)
    return internal


class TestRoundTrip:
    def test_the_coding_conversation_comes_back_unchanged(self):
        raw = load("openai_coding")
        assert openai.from_internal(openai.to_internal(raw)) == raw

    def test_converting_twice_gives_the_same_internal_messages(self):
        raw = load("openai_coding")
        assert openai.to_internal(raw) == openai.to_internal(load("openai_coding"))

    def test_legacy_function_call_and_result_come_back_unchanged(self):
        raw = [
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            },
            {"role": "function", "name": "get_weather", "content": '{"temp_c": -3}'},
        ]
        assert openai.from_internal(openai.to_internal(raw)) == raw

    def test_audio_file_and_custom_tool_calls_come_back_unchanged(self):
        raw = [
            {
                "role": "user",
                "content": [
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "mp3"}},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                    {"type": "file", "file": {"file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}},
                    {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_c1",
                        "type": "custom",
                        "custom": {"name": "apply_patch", "input": "*** Begin"},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_c1", "content": "ok"},
        ]
        assert openai.from_internal(openai.to_internal(raw)) == raw


class TestMessagesIn:
    def test_a_data_url_image_becomes_base64_with_media_type_and_detail_in_meta(self):
        url = f"data:image/png;base64,{PNG}"
        message = {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": url, "detail": "high"}}],
        }
        assert one(message)["parts"] == [
            {
                "type": "image",
                "source": {"kind": "base64", "media_type": "image/png", "data": PNG},
                "meta": {"detail": "high"},
            }
        ]

    def test_an_http_image_becomes_a_url_source(self):
        message = {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": "https://x.io/a.png"}}],
        }
        assert one(message)["parts"][0]["source"] == {"kind": "url", "url": "https://x.io/a.png"}

    def test_a_percent_encoded_data_url_is_stored_as_base64(self):
        url = "data:image/svg+xml,%3Csvg%2F%3E"
        part = one({"role": "user", "content": [{"type": "image_url", "image_url": url}]})["parts"][
            0
        ]
        assert part["source"] == {
            "kind": "base64",
            "media_type": "image/svg+xml",
            "data": "PHN2Zy8+",
        }

    def test_system_and_developer_become_user_text_with_original_role(self):
        for role in ("system", "developer"):
            assert one({"role": role, "content": "Be brief."}) == {
                "role": "user",
                "parts": [{"type": "text", "text": "Be brief."}],
                "meta": {"original_role": role},
            }

    def test_a_tool_message_becomes_a_user_message_with_one_tool_result(self):
        message = {"role": "tool", "tool_call_id": "call_1", "content": "42"}
        assert one(message) == {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "call_1",
                    "content": [{"type": "text", "text": "42"}],
                }
            ],
        }

    def test_tool_calls_become_tool_call_parts_after_the_text(self):
        raw = load("openai_coding")[3]
        parts = one(raw)["parts"]
        assert [p["type"] for p in parts] == ["text", "tool-call", "tool-call"]
        assert parts[1] == {
            "type": "tool-call",
            "id": "call_9xQe2LwTt0",
            "name": "read_file",
            "arguments": '{"path": "tests/test_login.py"}',
        }

    def test_arguments_sent_as_an_object_become_compact_json_text(self):
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": "é"}}}
        part = one({"role": "assistant", "tool_calls": [call]})["parts"][0]
        assert part["arguments"] == '{"a":"é"}'

    def test_names_and_native_ids_are_kept_in_meta(self):
        internal = one({"role": "user", "name": "alice", "id": "m1", "content": "hi"})
        assert internal["meta"] == {"id": "m1", "name": "alice"}

    def test_a_refusal_is_text_marked_in_meta(self):
        internal = one({"role": "assistant", "content": None, "refusal": "No."})
        assert internal["parts"] == [{"type": "text", "text": "No.", "meta": {"refusal": True}}]

    def test_a_legacy_function_result_pairs_with_the_oldest_open_call_of_that_name(self):
        raw = [
            {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "done"},
        ]
        call, result = (m["parts"][0] for m in openai.to_internal(raw))
        assert result["tool_call_id"] == call["id"]
        assert call["id"].startswith("call_") and len(call["id"]) == 29
        assert result["name"] == "f"

    def test_a_legacy_function_result_can_answer_a_call_from_an_earlier_request(self):
        message = {"role": "function", "name": "f", "content": "done"}
        assert (
            one(message, open_calls=[("call_old", "f")])["parts"][0]["tool_call_id"] == "call_old"
        )

    def test_an_unmatched_legacy_result_gets_a_stable_id(self):
        message = {"role": "function", "name": "f", "content": "done"}
        assert one(message)["parts"][0]["tool_call_id"] == one(message)["parts"][0]["tool_call_id"]

    def test_a_raw_base64_file_gets_a_media_type_from_its_filename(self):
        file = {"file_data": "JVBERi0=", "filename": "a.pdf"}
        part = one({"role": "user", "content": [{"type": "file", "file": file}]})["parts"][0]
        assert part == {
            "type": "file",
            "filename": "a.pdf",
            "source": {"kind": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        }


class TestMessagesOut:
    def test_a_user_message_of_tool_results_becomes_one_tool_message_each(self):
        message = {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "a",
                    "content": [{"type": "text", "text": "1"}],
                },
                {"type": "tool-result", "tool_call_id": "b", "content": [], "is_error": True},
            ],
        }
        assert openai.from_internal([message]) == [
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": ""},
        ]

    def test_tool_results_go_out_before_the_rest_of_their_message(self):
        message = {
            "role": "user",
            "parts": [
                {"type": "text", "text": "and also this"},
                {
                    "type": "tool-result",
                    "tool_call_id": "a",
                    "content": [{"type": "text", "text": "1"}],
                },
            ],
        }
        assert openai.from_internal([message]) == [
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "user", "content": "and also this"},
        ]

    def test_thinking_becomes_text_and_redacted_thinking_is_dropped(self):
        message = {
            "role": "assistant",
            "parts": [
                {"type": "thinking", "text": "hmm", "signature": "sig"},
                {"type": "redacted_thinking", "data": "xx"},
                {"type": "text", "text": "Answer."},
            ],
        }
        assert openai.from_internal([message]) == [
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "hmm"}, {"type": "text", "text": "Answer."}],
            }
        ]

    def test_an_image_in_a_tool_result_becomes_a_placeholder(self):
        image = {
            "type": "image",
            "source": {"kind": "base64", "media_type": "image/png", "data": PNG},
        }
        message = {
            "role": "user",
            "parts": [{"type": "tool-result", "tool_call_id": "a", "content": [image]}],
        }
        assert openai.from_internal([message]) == [
            {"role": "tool", "tool_call_id": "a", "content": "[image: image/png]"}
        ]

    def test_a_message_with_nothing_openai_can_carry_is_dropped(self):
        opaque = {"type": "opaque", "source_format": "anthropic", "value": {"type": "x"}}
        message = {
            "role": "assistant",
            "parts": [{"type": "redacted_thinking", "data": "x"}, opaque],
        }
        assert openai.from_internal([message]) == []

    def test_a_system_message_keeps_its_role_and_its_image_becomes_a_placeholder(self):
        image = {"type": "image", "source": {"kind": "url", "url": "https://x.io/a.png"}}
        message = {
            "role": "user",
            "parts": [{"type": "text", "text": "Rules"}, image],
            "meta": {"original_role": "system"},
        }
        assert openai.from_internal([message]) == [
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": "Rules"},
                    {"type": "text", "text": "[image: https://x.io/a.png]"},
                ],
            }
        ]

    def test_a_single_text_part_list_is_written_as_a_string(self):
        raw = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
        assert openai.from_internal(openai.to_internal(raw)) == [{"role": "user", "content": "hi"}]

    def test_a_blob_source_must_be_resolved_before_conversion(self):
        part = {"type": "image", "source": {"kind": "blob", "blob": "ab" * 32, "size": 3}}
        with pytest.raises(InvalidInput, match=r"messages\[0\]\.parts\[0\]: source.kind 'blob'"):
            openai.from_internal([{"role": "user", "parts": [part]}])


def with_part(part: dict) -> list[dict]:
    return [{"role": "user", "content": [part]}]


def with_call(call: object) -> list[dict]:
    return [{"role": "assistant", "tool_calls": [call]}]


FN = {"name": "f", "arguments": "{}"}


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("messages", "error"),
        [
            ({"role": "user"}, r"^messages: must be a list"),
            (["hi"], r"^messages\[0\]: must be an object"),
            ([{"content": "hi"}], r"^messages\[0\]: missing role"),
            ([{"role": "robot", "content": "hi"}], r"^messages\[0\]\.role: unknown role 'robot'"),
            ([{"role": "user", "content": 3}], r"^messages\[0\]\.content: must be a string or"),
            ([{"role": "user"}], r"^messages\[0\]\.content: is required"),
            ([{"role": "user", "name": 1, "content": "x"}], r"^messages\[0\]: name must be a"),
            (with_part({"text": "x"}), r"content\[0\]: must be an object with a string type"),
            (with_part({"type": "text", "text": 1}), r"content\[0\]: text must be a string"),
            (
                with_part({"type": "image_url", "image_url": {"url": "file:///a.png"}}),
                r"^messages\[0\]\.content\[0\]: image_url.url must be a data: URL or http\(s\) URL",
            ),
            (with_part({"type": "image_url", "image_url": {}}), r"image_url.url must be a string"),
            (
                with_part({"type": "image_url", "image_url": "data:image/png;base64"}),
                r"data: URL without a comma",
            ),
            (
                with_part({"type": "input_audio", "input_audio": {"data": "x"}}),
                r"input_audio needs",
            ),
            (with_part({"type": "file", "file": "x"}), r"file must be an object"),
            (with_part({"type": "file", "file": {}}), r"\.file: file_data must be a string"),
            (
                [{"role": "tool", "content": "x"}],
                r"^messages\[0\]\.tool_call_id: a tool message needs tool_call_id",
            ),
            (
                [{"role": "function", "content": "x"}],
                r"^messages\[0\]\.name: a function message needs name",
            ),
            (
                [{"role": "assistant", "tool_calls": {}}],
                r"^messages\[0\]\.tool_calls: must be a list",
            ),
            (with_call("x"), r"tool_calls\[0\]: must be an object"),
            (with_call({"function": FN}), r"tool_calls\[0\]: id must be a non-empty string"),
            (with_call({"id": "a"}), r"tool_calls\[0\]: function must be an object"),
            (with_call({"id": "a", "function": {}}), r"\.function: name must be a string"),
            (
                with_call({"id": "a", "function": {"name": "f", "arguments": 3}}),
                r"tool_calls\[0\]\.function: arguments must be a string",
            ),
            (with_call({"id": "a", "type": "mcp"}), r"\.type: unknown tool call type 'mcp'"),
            ([{"role": "assistant", "function_call": "f"}], r"\.function_call: must be an object"),
            ([{"role": "assistant", "refusal": 1}], r"^messages\[0\]\.refusal: must be a string"),
        ],
    )
    def test_bad_input_names_the_message_and_field(self, messages, error):
        with pytest.raises(InvalidInput, match=error):
            openai.to_internal(messages)

    def test_open_calls_must_be_id_name_pairs(self):
        with pytest.raises(InvalidInput, match=r"open_calls\[0\]: must be an \(id, name\) pair"):
            openai.to_internal([], open_calls=[("only-id",)])

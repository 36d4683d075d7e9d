"""Anthropic Messages API messages to and from the internal form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import anthropic

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def load(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def one(message: dict) -> dict:
    [internal] = anthropic.to_internal([message])
    return internal


def blocks(*content: dict, role: str = "user") -> dict:
    return {"role": role, "content": list(content)}


class TestRoundTrip:
    def test_the_coding_conversation_comes_back_unchanged_but_for_message_ids(self):
        raw = load("anthropic_coding")
        expected = [{k: v for k, v in m.items() if k != "id"} for m in raw]
        assert anthropic.from_internal(anthropic.to_internal(raw)) == expected

    def test_a_text_document_comes_back_as_a_text_source(self):
        doc = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "Grass is green. ✓"},
            "title": "Notes",
            "context": "from the wiki",
        }
        raw = [blocks(doc, {"type": "text", "text": "Summarize."})]
        internal = anthropic.to_internal(raw)
        assert internal[0]["parts"][0]["source"]["media_type"] == "text/plain"
        assert anthropic.from_internal(internal) == raw

    def test_url_images_and_documents_come_back_unchanged(self):
        raw = [
            blocks(
                {"type": "image", "source": {"type": "url", "url": "https://x.io/a.jpg"}},
                {"type": "document", "source": {"type": "url", "url": "https://x.io/a.pdf"}},
            )
        ]
        assert anthropic.from_internal(anthropic.to_internal(raw)) == raw


class TestMessagesIn:
    def test_cache_control_and_citations_go_to_part_meta(self):
        first = one(load("anthropic_coding")[0])["parts"][0]
        assert first == {
            "type": "text",
            "text": "Project conventions: Flask app in app/, tests in tests/, run `pytest -q`.",
            "meta": {"cache_control": {"type": "ephemeral"}},
        }

    def test_a_pdf_document_becomes_a_file_part_with_its_title(self):
        doc = one(load("anthropic_coding")[0])["parts"][3]
        assert doc["type"] == "file"
        assert doc["title"] == "Login spec"
        assert doc["source"]["media_type"] == "application/pdf"
        assert doc["meta"] == {"citations": {"enabled": True}}

    def test_tool_use_input_becomes_compact_json_text(self):
        block = {"type": "tool_use", "id": "toolu_1", "name": "grep", "input": {"q": "ü", "n": 2}}
        part = one(blocks(block, role="assistant"))["parts"][0]
        assert part == {
            "type": "tool-call",
            "id": "toolu_1",
            "name": "grep",
            "arguments": '{"q":"ü","n":2}',
        }

    def test_a_tool_result_keeps_is_error_and_its_images(self):
        raw = load("anthropic_coding")
        error = one(raw[4])["parts"][0]
        assert error["is_error"] is True
        assert error["content"][0]["text"].startswith("FAILED")
        shot = one(raw[6])["parts"][0]
        assert [c["type"] for c in shot["content"]] == ["text", "image"]

    def test_thinking_keeps_its_signature_and_redacted_thinking_its_data(self):
        raw = load("anthropic_coding")
        thinking = one(raw[1])["parts"][0]
        assert thinking["type"] == "thinking"
        assert thinking["signature"] == "EqQBCkYIBhgCKkBq1yQ2R1v8dGhpbmtpbmcgc2lnbmF0dXJl"
        assert one(raw[3])["parts"][0]["type"] == "redacted_thinking"

    def test_unknown_block_types_are_kept_verbatim_as_opaque_parts(self):
        raw = load("anthropic_coding")[5]
        parts = one(raw)["parts"]
        assert parts[0] == {
            "type": "opaque",
            "source_format": "anthropic",
            "value": raw["content"][0],
        }
        assert parts[1]["value"]["type"] == "web_search_tool_result"

    def test_an_image_from_a_file_id_is_kept_as_an_opaque_part(self):
        block = {"type": "image", "source": {"type": "file", "file_id": "file_011"}}
        assert one(blocks(block))["parts"][0]["type"] == "opaque"

    def test_a_system_message_becomes_user_text_with_original_role(self):
        internal = one({"role": "system", "content": "Be brief."})
        assert internal["meta"] == {"original_role": "system"}
        assert anthropic.from_internal([internal]) == [
            {"role": "user", "content": [{"type": "text", "text": "Be brief."}]}
        ]

    def test_string_content_comes_back_as_one_text_block(self):
        raw = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        assert anthropic.from_internal(anthropic.to_internal(raw)) == [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
        ]

    def test_a_native_message_id_is_kept_in_meta(self):
        assert one(load("anthropic_coding")[1])["meta"] == {"id": "msg_01XFDUDYJgAACzvnptvVoYEL"}

    def test_unknown_keys_on_known_blocks_survive_an_anthropic_round_trip_only(self):
        block = {
            "type": "tool_use",
            "id": "t",
            "name": "f",
            "input": {},
            "caller": {"type": "direct"},
        }
        internal = anthropic.to_internal([blocks(block, role="assistant")])
        assert internal[0]["parts"][0]["meta"] == {
            "anthropic_extra": {"caller": {"type": "direct"}}
        }
        assert anthropic.from_internal(internal)[0]["content"][0] == block


class TestMessagesOut:
    def test_arguments_that_are_not_a_json_object_are_wrapped(self):
        message = {
            "role": "assistant",
            "parts": [
                {"type": "tool-call", "id": "a", "name": "f", "arguments": "not json"},
                {"type": "tool-call", "id": "b", "name": "f", "arguments": "[1, 2]"},
            ],
        }
        uses = anthropic.from_internal([message])[0]["content"]
        assert [u["input"] for u in uses] == [{"_raw": "not json"}, {"_raw": "[1, 2]"}]

    def test_tool_results_are_moved_ahead_of_other_blocks(self):
        message = {
            "role": "user",
            "parts": [
                {"type": "text", "text": "also"},
                {"type": "tool-result", "tool_call_id": "a", "content": []},
            ],
        }
        content = anthropic.from_internal([message])[0]["content"]
        assert [b["type"] for b in content] == ["tool_result", "text"]

    def test_unsigned_thinking_becomes_text_and_empty_text_is_dropped(self):
        message = {
            "role": "assistant",
            "parts": [
                {"type": "thinking", "text": "plan"},
                {"type": "text", "text": ""},
                {"type": "tool-call", "id": "a", "name": "f", "arguments": "{}"},
            ],
        }
        assert anthropic.from_internal([message])[0]["content"] == [
            {"type": "text", "text": "plan"},
            {"type": "tool_use", "id": "a", "name": "f", "input": {}},
        ]

    def test_audio_becomes_a_placeholder_and_foreign_opaque_parts_are_dropped(self):
        message = {
            "role": "user",
            "parts": [
                {
                    "type": "audio",
                    "source": {"kind": "base64", "media_type": "audio/wav", "data": "U"},
                },
                {"type": "opaque", "source_format": "gemini", "value": {"executableCode": {}}},
            ],
        }
        assert anthropic.from_internal([message]) == [
            {"role": "user", "content": [{"type": "text", "text": "[audio: audio/wav]"}]}
        ]

    def test_a_file_with_only_a_filename_gets_it_as_title(self):
        part = {
            "type": "file",
            "filename": "spec.pdf",
            "source": {"kind": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        }
        [message] = anthropic.from_internal([{"role": "user", "parts": [part]}])
        assert message["content"][0]["title"] == "spec.pdf"

    def test_an_empty_tool_result_has_no_content_key(self):
        part = {"type": "tool-result", "tool_call_id": "a", "content": [], "is_error": False}
        [message] = anthropic.from_internal([{"role": "user", "parts": [part]}])
        assert message["content"] == [
            {"type": "tool_result", "tool_use_id": "a", "is_error": False}
        ]


def with_block(block: dict) -> list[dict]:
    return [{"role": "user", "content": [block]}]


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("messages", "error"),
        [
            ("hello", r"^messages: must be a list"),
            ([None], r"^messages\[0\]: must be an object"),
            ([{"content": "hi"}], r"^messages\[0\]: missing role"),
            ([{"role": "tool", "content": "hi"}], r"^messages\[0\]\.role: unknown role 'tool'"),
            ([{"role": "user"}], r"^messages\[0\]\.content: must be a string or a list"),
            ([{"role": "user", "content": {"type": "text"}}], r"\.content: must be a string or"),
            (with_block("text"), r"^messages\[0\]\.content\[0\]: must be an object with a string"),
            (with_block({"type": "text"}), r"content\[0\]: text must be a string"),
            (with_block({"type": "image"}), r"content\[0\]: source must be an object"),
            (
                with_block({"type": "image", "source": {"type": "base64", "data": "x"}}),
                r"content\[0\]\.source: media_type must be a string",
            ),
            (with_block({"type": "tool_use", "name": "f", "input": {}}), r"tool_use id must be"),
            (with_block({"type": "tool_use", "id": "a", "input": {}}), r"name must be a string"),
            (
                with_block({"type": "tool_use", "id": "a", "name": "f", "input": "{}"}),
                r"tool_use input must be an object",
            ),
            (with_block({"type": "tool_result", "content": "x"}), r"tool_result needs tool_use_id"),
            (
                with_block({"type": "tool_result", "tool_use_id": "a", "content": 3}),
                r"content\[0\]\.content: must be a string or a list",
            ),
            (
                with_block({"type": "tool_result", "tool_use_id": "a", "is_error": "yes"}),
                r"content\[0\]\.is_error: must be true or false",
            ),
            (
                with_block({"type": "tool_result", "tool_use_id": "a", "content": [{"type": 1}]}),
                r"content\[0\]\.content\[0\]: must be an object with a string type",
            ),
            (with_block({"type": "thinking", "signature": "s"}), r"thinking must be a string"),
            (with_block({"type": "redacted_thinking"}), r"data must be a string"),
        ],
    )
    def test_bad_input_names_the_message_and_field(self, messages, error):
        with pytest.raises(InvalidInput, match=error):
            anthropic.to_internal(messages)


def test_media_the_api_cannot_take_becomes_a_placeholder():
    video = {
        "type": "file",
        "source": {"kind": "url", "url": "https://x.io/v", "media_type": "video/mp4"},
    }
    svg = {
        "type": "image",
        "source": {"kind": "base64", "media_type": "image/svg+xml", "data": "PHN2Zy8+"},
    }
    gcs = {"type": "image", "source": {"kind": "url", "url": "gs://bucket/a.png"}}
    [message] = anthropic.from_internal([{"role": "user", "parts": [video, svg, gcs]}])
    assert message["content"] == [
        {"type": "text", "text": "[file: https://x.io/v]"},
        {"type": "text", "text": "[image: image/svg+xml]"},
        {"type": "text", "text": "[image: gs://bucket/a.png]"},
    ]

"""Gemini contents to and from the internal form, including generated ids and FIFO matching."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import gemini

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def load(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def calls_and_results(messages: list[dict]) -> tuple[list[dict], list[dict]]:
    parts = [p for m in messages for p in m["parts"]]
    return (
        [p for p in parts if p["type"] == "tool-call"],
        [p for p in parts if p["type"] == "tool-result"],
    )


def call(name: str, **args: object) -> dict:
    return {"functionCall": {"name": name, "args": args}}


def response(name: str, **payload: object) -> dict:
    return {"functionResponse": {"name": name, "response": payload}}


def without_ids(contents: list[dict]) -> list[dict]:
    out = json.loads(json.dumps(contents))
    for content in out:
        for part in content["parts"]:
            for key in ("functionCall", "functionResponse"):
                if key in part:
                    part[key].pop("id", None)
    return out


class TestRoundTrip:
    def test_the_coding_conversation_comes_back_with_ids_added(self):
        raw = load("gemini_coding")
        back = gemini.from_internal(gemini.to_internal(raw))
        assert without_ids(back) == raw
        ids = [
            p[key]["id"]
            for c in back
            for p in c["parts"]
            for key in ("functionCall", "functionResponse")
            if key in p
        ]
        assert len(ids) == 8 and all(i.startswith("call_") for i in ids)

    def test_ids_from_the_model_come_back_unchanged(self):
        raw = [
            {"role": "model", "parts": [{"functionCall": {"id": "fc-1", "name": "f", "args": {}}}]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"id": "fc-1", "name": "f", "response": {"a": 1}}}],
            },
        ]
        assert gemini.from_internal(gemini.to_internal(raw)) == raw

    def test_media_in_a_function_response_comes_back_in_its_parts(self):
        image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
        raw = [
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "id": "a",
                            "name": "screenshot",
                            "response": {"output": "ok"},
                            "parts": [image],
                        }
                    }
                ],
            }
        ]
        internal = gemini.to_internal(raw)
        assert [c["type"] for c in internal[0]["parts"][0]["content"]] == ["text", "image"]
        assert gemini.from_internal(internal) == raw


class TestIds:
    def test_the_same_contents_get_the_same_generated_ids(self):
        first = calls_and_results(gemini.to_internal(load("gemini_coding")))
        second = calls_and_results(gemini.to_internal(load("gemini_coding")))
        assert first == second

    def test_a_generated_id_hashes_salt_name_sorted_args_and_ordinal(self):
        [message] = gemini.to_internal(
            [{"role": "model", "parts": [call("f", b=1, a=2)]}], id_salt="s1:4"
        )
        digest = hashlib.sha256(b's1:4\x1ff\x1f{"a":2,"b":1}\x1f0').hexdigest()
        assert message["parts"][0]["id"] == "call_" + digest[:24]
        assert message["parts"][0]["meta"] == {"generated_id": True}
        assert message["parts"][0]["arguments"] == '{"b":1,"a":2}'

    def test_a_different_salt_gives_a_different_id(self):
        raw = [{"role": "model", "parts": [call("now")]}]
        first = gemini.to_internal(raw, id_salt="s:0")[0]["parts"][0]["id"]
        assert first != gemini.to_internal(raw, id_salt="s:2")[0]["parts"][0]["id"]

    def test_identical_calls_in_one_conversion_get_different_ids(self):
        [message] = gemini.to_internal([{"role": "model", "parts": [call("ls"), call("ls")]}])
        first, second = message["parts"]
        assert first["id"] != second["id"]

    def test_responses_pair_first_in_first_out_with_calls_of_the_same_name(self):
        contents = [
            {"role": "model", "parts": [call("read", p="a"), call("ls"), call("read", p="b")]},
            {"role": "user", "parts": [response("read", output="A"), response("ls", output="L")]},
            {"role": "user", "parts": [response("read", output="B")]},
        ]
        calls, results = calls_and_results(gemini.to_internal(contents))
        by_id = {c["id"]: c["arguments"] for c in calls}
        paired = [(by_id[r["tool_call_id"]], r["content"][0]["text"]) for r in results]
        assert paired == [('{"p":"a"}', "A"), ("{}", "L"), ('{"p":"b"}', "B")]

    def test_a_response_answers_an_open_call_from_an_earlier_request(self):
        earlier = gemini.to_internal([{"role": "model", "parts": [call("ls")]}])
        open_calls = [(p["id"], p["name"]) for p in earlier[0]["parts"]]
        later = gemini.to_internal(
            [{"role": "user", "parts": [response("ls", output="x")]}], open_calls=open_calls
        )
        assert later[0]["parts"][0]["tool_call_id"] == earlier[0]["parts"][0]["id"]

    def test_open_calls_come_before_calls_in_this_conversion(self):
        contents = [
            {"role": "model", "parts": [call("ls")]},
            {"role": "user", "parts": [response("ls", output="1"), response("ls", output="2")]},
        ]
        messages = gemini.to_internal(contents, open_calls=[("call_old", "ls")])
        calls, results = calls_and_results(messages)
        assert [r["tool_call_id"] for r in results] == ["call_old", calls[0]["id"]]

    def test_a_response_with_an_id_consumes_that_call_not_the_oldest(self):
        contents = [
            {"role": "model", "parts": [call("ls"), call("ls")]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"id": "x", "name": "ls", "response": {}}}],
            },
        ]
        first = gemini.to_internal(contents)[0]["parts"]
        contents[1]["parts"][0]["functionResponse"]["id"] = first[1]["id"]
        contents[1]["parts"].append(response("ls", output="2"))
        _, results = calls_and_results(gemini.to_internal(contents))
        assert [r["tool_call_id"] for r in results] == [first[1]["id"], first[0]["id"]]

    def test_a_response_without_a_call_gets_a_stable_id_and_is_kept(self):
        contents = [{"role": "user", "parts": [response("ls", output="x")]}]
        [a] = gemini.to_internal(contents)
        [b] = gemini.to_internal(contents)
        assert a["parts"][0]["tool_call_id"] == b["parts"][0]["tool_call_id"]
        assert a["parts"][0]["tool_call_id"].startswith("call_")
        assert a["parts"][0]["name"] == "ls"


class TestPartsIn:
    def test_thought_text_becomes_thinking_and_signatures_are_kept(self):
        [_, model, *_] = gemini.to_internal(load("gemini_coding"))
        assert model["role"] == "assistant"
        assert model["parts"][0]["type"] == "thinking"
        assert model["parts"][1]["meta"] == {
            "gemini_extra": {"thoughtSignature": "CiQBcsjafBm2W7Y0rQ3v8eL4XHxZ0l9ZlW0Jg3hM1o4="}
        }

    def test_inline_and_file_data_become_media_by_mime_type(self):
        messages = gemini.to_internal(load("gemini_coding"))
        assert messages[0]["parts"][1]["type"] == "image"
        spec, video = messages[7]["parts"][1:]
        assert spec["type"] == "file" and spec["source"]["media_type"] == "application/pdf"
        assert video["type"] == "file" and video["source"]["kind"] == "url"
        [audio] = gemini.to_internal(
            [{"parts": [{"inline_data": {"mime_type": "audio/ogg", "data": "T2dnUw=="}}]}]
        )
        assert audio["role"] == "user" and audio["parts"][0]["type"] == "audio"

    def test_output_and_error_responses_become_their_text(self):
        _, results = calls_and_results(gemini.to_internal(load("gemini_coding")))
        assert results[0]["content"][0]["text"].startswith("from app import")
        assert results[2]["is_error"] is True
        assert results[3]["content"] == [{"type": "text", "text": '{"ok":true,"lines_changed":1}'}]
        assert "is_error" not in results[3]

    def test_unknown_part_kinds_are_kept_as_opaque_parts(self):
        last = gemini.to_internal(load("gemini_coding"))[-1]
        assert [p["type"] for p in last["parts"]] == ["opaque", "opaque", "text"]
        assert last["parts"][0]["source_format"] == "gemini"


class TestContentsOut:
    def test_function_response_names_come_from_calls_then_call_names_then_the_result(self):
        results = [
            {"type": "tool-result", "tool_call_id": i, "content": [], **extra}
            for i, extra in (("a", {}), ("b", {}), ("c", {"name": "own"}), ("d", {}))
        ]
        messages = [
            {
                "role": "assistant",
                "parts": [{"type": "tool-call", "id": "a", "name": "ls", "arguments": "{}"}],
            },
            {"role": "user", "parts": results},
        ]
        out = gemini.from_internal(messages, call_names={"b": "grep", "a": "stale"})
        names = [p["functionResponse"]["name"] for p in out[1]["parts"]]
        assert names == ["ls", "grep", "own", "unknown_tool"]

    def test_plain_text_results_are_wrapped_as_output_or_error(self):
        results = [
            {
                "type": "tool-result",
                "tool_call_id": "a",
                "content": [{"type": "text", "text": "hi"}],
            },
            {
                "type": "tool-result",
                "tool_call_id": "b",
                "is_error": True,
                "content": [{"type": "text", "text": "no"}],
            },
            {
                "type": "tool-result",
                "tool_call_id": "c",
                "content": [{"type": "text", "text": '{"a": 1}'}],
            },
        ]
        out = gemini.from_internal([{"role": "user", "parts": results}])
        responses = [p["functionResponse"]["response"] for p in out[0]["parts"]]
        assert responses == [{"output": "hi"}, {"error": "no"}, {"output": '{"a": 1}'}]

    def test_thinking_is_written_as_a_thought_and_redacted_thinking_is_dropped(self):
        message = {
            "role": "assistant",
            "parts": [
                {"type": "thinking", "text": "t", "signature": "s"},
                {"type": "redacted_thinking", "data": "x"},
            ],
        }
        assert gemini.from_internal([message]) == [
            {"role": "model", "parts": [{"text": "t", "thought": True}]}
        ]


def with_part(part: object) -> list[dict]:
    return [{"role": "user", "parts": [part]}]


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("contents", "error"),
        [
            ({"parts": []}, r"^messages: must be a list"),
            (["x"], r"^messages\[0\]: must be an object"),
            (
                [{"role": "assistant", "parts": []}],
                r"^messages\[0\]\.role: unknown role 'assistant'",
            ),
            ([{"role": "user"}], r"^messages\[0\]\.parts: must be a list"),
            (with_part("hi"), r"^messages\[0\]\.parts\[0\]: must be an object"),
            (with_part({"text": 1}), r"parts\[0\]: text must be a string"),
            (with_part({"inlineData": {"data": "x"}}), r"\.inlineData: mimeType must be a string"),
            (with_part({"inlineData": "x"}), r"\.inlineData: must be an object"),
            (with_part({"fileData": {"mimeType": "image/png"}}), r"\.fileData: fileUri must be a"),
            (with_part({"functionCall": {"args": {}}}), r"\.functionCall: name must be a string"),
            (with_part({"functionCall": {"name": "f", "args": [1]}}), r"\.args: must be an object"),
            (with_part({"functionCall": {"name": "f", "id": 3}}), r"\.functionCall\.id: must be a"),
            (with_part({"functionCall": "f"}), r"\.functionCall: must be an object"),
            (with_part({"functionResponse": {"response": {}}}), r"name must be a string"),
            (
                with_part({"functionResponse": {"name": "f", "response": "ok"}}),
                r"\.functionResponse\.response: must be an object",
            ),
            (
                with_part({"functionResponse": {"name": "f", "parts": {}}}),
                r"\.functionResponse\.parts: must be a list",
            ),
        ],
    )
    def test_bad_input_names_the_content_and_field(self, contents, error):
        with pytest.raises(InvalidInput, match=error):
            gemini.to_internal(contents)

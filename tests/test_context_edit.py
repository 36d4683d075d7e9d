"""Context editing on read (context/edit.py) over the multi-provider samples.

Token counts here use a counter of one token a character, so every expectation below is
computed by hand from the sample's character counts (written out in CHARS_*); one test uses
the real o200k_base counter for the gt_token floor.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp.context.edit import apply_edits, parse_strategies
from acontext_mcp.context.tokens import TIKTOKEN, Counter, counter, message_tokens
from acontext_mcp.errors import InvalidInput
from acontext_mcp.formats import convert

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # as tests/conftest.py

CHARS = Counter("chars", len)
DONE = [{"type": "text", "text": "Done"}]


def sample(fmt: str) -> list[Any]:
    """The sample in the internal form, as the store hands it to a read."""
    raw = json.loads((FIXTURES / "formats" / f"{fmt}_coding.json").read_text())
    return convert.to_internal(raw, fmt)


def ids_for(messages: list[Any]) -> list[int]:
    return list(range(1, len(messages) + 1))  # message ids 1..n, as a fresh session has


def edit(messages: list[Any], edits: list[Any], **kw: Any):
    return apply_edits(messages, ids_for(messages), parse_strategies(edits), count=CHARS, **kw)


# Per-message counts (characters; images and files 800) of the samples, by index:
# OpenAI: 0 system 84, 1 developer 51, 2 user text+image 866, 3 assistant two read_file calls
# 120 (text 41 + 9+31 + 9+30), 4 result 133, 5 result 67, 6 run_tests call 57, 7 result 104,
# 8 text + edit_file call 181, 9 result 39 (25+14), 10 user text+file 868, 11 54, 12 38, 13 46.
CHARS_OPENAI = [84, 51, 866, 120, 133, 67, 57, 104, 181, 39, 868, 54, 38, 46]
# Anthropic: 0 user texts+image+document 1729, 1 assistant thinking+text+2 calls 175,
# 2 both results 200, 3 redacted thinking + run_tests call 118, 4 result 97,
# 5 opaque+text+screenshot call 643, 6 result text+image 836, 7 text 81.
CHARS_ANTHROPIC = [1729, 175, 200, 118, 97, 643, 836, 81]


def test_the_hand_counts_are_what_the_counter_sees() -> None:
    assert [message_tokens(m, len) for m in sample("openai")] == CHARS_OPENAI
    assert [message_tokens(m, len) for m in sample("anthropic")] == CHARS_ANTHROPIC


# --- remove_tool_result ---


def test_remove_tool_result_keeps_the_newest_n_and_clears_the_rest() -> None:
    messages = sample("openai")
    before = copy.deepcopy(messages)
    out = edit(
        messages, [{"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 1}}]
    )
    results = {
        i: m["parts"][0]
        for i, m in enumerate(out.messages)
        if m["parts"][0]["type"] == "tool-result"
    }
    assert [results[i]["content"] for i in (4, 5, 7)] == [DONE, DONE, DONE]
    assert results[9]["content"] == before[9]["parts"][0]["content"]  # the newest stays
    assert results[4]["tool_call_id"] == "call_9xQe2LwTt0"  # only the content changes
    # 133-4 + 67-4 + 104-4 saved; messages 5, 6 and 8 (ids) touched
    assert out.applied == [
        {"type": "remove_tool_result", "message_ids": [5, 6, 8], "parts": 3, "tokens_saved": 292}
    ]
    assert (out.tokens_before, out.tokens_after) == (2708, 2708 - 292)
    assert messages == before  # what was handed in (the stored messages) never changes


def test_remove_tool_result_default_keeps_three_and_says_done() -> None:
    out = edit(sample("openai"), [{"type": "remove_tool_result"}])
    assert out.applied[0]["message_ids"] == [5] and out.messages[4]["parts"][0]["content"] == DONE


def test_keep_tools_are_never_cleared_and_do_not_count_as_recent() -> None:
    out = edit(
        sample("openai"),
        [
            {
                "type": "remove_tool_result",
                "params": {"keep_recent_n_tool_results": 0, "keep_tools": ["read_file"]},
            }
        ],
    )
    # read_file's results (ids 5, 6) stay; run_tests (8) and edit_file (10) are cleared
    assert out.applied[0] == {
        "type": "remove_tool_result",
        "message_ids": [8, 10],
        "parts": 2,
        "tokens_saved": 100 + 35,
    }


def test_gemini_results_name_their_tool_for_keep_tools() -> None:
    messages = sample("gemini")
    out = edit(
        messages,
        [
            {
                "type": "remove_tool_result",
                "params": {"keep_recent_n_tool_results": 0, "keep_tools": ["edit_file"]},
            }
        ],
    )
    # both read_file results of message 3 and run_tests' of 5 go; edit_file's (7) stays
    assert out.applied[0] == {
        "type": "remove_tool_result",
        "message_ids": [3, 5],
        "parts": 3,
        "tokens_saved": (133 - 4) + (67 - 4) + (97 - 4),
    }
    assert out.messages[6] == messages[6]


def test_gt_token_clears_only_results_over_the_floor() -> None:
    out = edit(
        sample("openai"),
        [
            {
                "type": "remove_tool_result",
                "params": {"keep_recent_n_tool_results": 0, "gt_token": 100},
            }
        ],
    )
    # 133 and 104 are over 100; 67 and 39 are not
    assert out.applied[0]["message_ids"] == [5, 8]
    assert out.applied[0]["tokens_saved"] == 129 + 100


def test_gt_token_counts_with_the_real_tokenizer() -> None:
    """'hello world' is two o200k_base tokens: a floor of 2 keeps it, a floor of 1 clears it."""
    messages = [
        {
            "role": "assistant",
            "parts": [{"type": "tool-call", "id": "c1", "name": "t", "arguments": "{}"}],
        },
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool-result",
                    "tool_call_id": "c1",
                    "content": [{"type": "text", "text": "hello world"}],
                }
            ],
        },
    ]
    real = counter()
    assert real.name == TIKTOKEN
    strategy = {"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 0}}
    for floor, cleared in ((2, []), (1, [2])):
        strategy["params"]["gt_token"] = floor
        out = apply_edits(messages, [1, 2], parse_strategies([strategy]), count=real)
        assert out.applied[0]["message_ids"] == cleared
    assert (out.tokens_before, out.tokens_after) == (2 + 1 + 1, 1 + 1 + 1)  # t, {}, text


def test_the_placeholder_is_trimmed() -> None:
    out = edit(
        sample("anthropic"),
        [
            {
                "type": "remove_tool_result",
                "params": {
                    "keep_recent_n_tool_results": 2,
                    "tool_result_placeholder": "  [cleared]  ",
                },
            }
        ],
    )
    # four results (two in message 3, one in 5, one in 7): the oldest two go
    assert out.messages[2]["parts"][0]["content"] == [{"type": "text", "text": "[cleared]"}]
    assert out.applied[0]["message_ids"] == [3] and out.applied[0]["parts"] == 2


# --- remove_tool_call_params ---


def test_remove_tool_call_params_empties_older_arguments_and_keeps_id_and_name() -> None:
    messages = sample("openai")
    out = edit(
        messages, [{"type": "remove_tool_call_params", "params": {"keep_recent_n_tool_calls": 1}}]
    )
    calls = [p for m in out.messages for p in m["parts"] if p["type"] == "tool-call"]
    assert [c["arguments"] for c in calls] == [
        "{}",
        "{}",
        "{}",
        messages[8]["parts"][1]["arguments"],
    ]
    assert [c["id"] for c in calls[:2]] == ["call_9xQe2LwTt0", "call_9xQe2LwTt1"]
    assert out.applied == [
        {
            "type": "remove_tool_call_params",
            "message_ids": [4, 7],
            "parts": 3,
            "tokens_saved": (31 - 2) + (30 - 2) + (48 - 2),
        }
    ]


def test_remove_tool_call_params_keep_tools_and_gt_token() -> None:
    kept = edit(
        sample("openai"),
        [
            {
                "type": "remove_tool_call_params",
                "params": {"keep_recent_n_tool_calls": 0, "keep_tools": ["run_tests"]},
            }
        ],
    )
    assert kept.applied[0]["message_ids"] == [4, 9]  # run_tests' call (7) keeps its arguments
    floor = edit(
        sample("openai"),
        [
            {
                "type": "remove_tool_call_params",
                "params": {"keep_recent_n_tool_calls": 0, "gt_token": 40},
            }
        ],
    )
    assert floor.applied[0]["message_ids"] == [7, 9]  # 48 and 112 characters; 31 and 30 stay


# --- token_limit and middle_out ---


def test_token_limit_drops_the_oldest_and_takes_a_tool_pair_across_the_cut() -> None:
    """Dropping message 2 alone (a call) would already fit 2000, leaving its results in
    message 3 orphaned: the pair goes together."""
    out = edit(sample("anthropic"), [{"type": "token_limit", "params": {"limit_tokens": 2000}}])
    assert out.applied == [{"type": "token_limit", "message_ids": [1, 2, 3], "tokens_saved": 2104}]
    assert out.ids == [4, 5, 6, 7, 8] and out.tokens_after == 3879 - 2104 == 1775
    assert out.messages[0]["parts"][1]["type"] == "tool-call"  # starts at a call, not a result


def test_token_limit_never_leaves_an_orphan_at_any_limit() -> None:
    messages = sample("openai")
    for limit in range(50, 2800, 50):
        out = edit(messages, [{"type": "token_limit", "params": {"limit_tokens": limit}}])
        calls = {p["id"] for m in out.messages for p in m["parts"] if p["type"] == "tool-call"}
        results = {
            p["tool_call_id"]
            for m in out.messages
            for p in m["parts"]
            if p["type"] == "tool-result"
        }
        assert calls == results, limit
        assert out.tokens_after <= limit or not out.messages


def test_token_limit_under_the_limit_changes_nothing() -> None:
    messages = sample("gemini")
    out = edit(messages, [{"type": "token_limit", "params": {"limit_tokens": 100_000}}])
    assert out.messages == messages and out.applied[0]["message_ids"] == []


def test_middle_out_removes_from_the_middle_with_pairs_and_keeps_both_ends() -> None:
    """2708 -> 2000: the middle (index 7, a result) goes with its call (6); then 8 with 9;
    then 5 with 3 and 4 (one call message, two results); then 10 (the file): 1139."""
    out = edit(sample("openai"), [{"type": "middle_out", "params": {"token_reduce_to": 2000}}])
    assert out.ids == [1, 2, 3, 12, 13, 14]
    assert out.applied == [
        {
            "type": "middle_out",
            "message_ids": [4, 5, 6, 7, 8, 9, 10, 11],
            "tokens_saved": 2708 - 1139,
        }
    ]
    assert out.tokens_after == 84 + 51 + 866 + 54 + 38 + 46 == 1139


def test_middle_out_with_two_left_drops_the_older() -> None:
    messages = sample("openai")[11:]  # 54, 38, 46
    out = edit(messages, [{"type": "middle_out", "params": {"token_reduce_to": 50}}])
    # middle (38) goes, then of the two left the older (54): 46 stays
    assert out.ids == [3] and out.tokens_after == 46


# --- priority and pinning ---


def test_strategies_run_in_the_reference_priority_order_whatever_the_order_given() -> None:
    """Clearing every result first saves 327 (2708 -> 2381), so a 2400 limit drops nothing;
    run first, token_limit would have dropped three messages."""
    out = edit(
        sample("openai"),
        [
            {"type": "token_limit", "params": {"limit_tokens": 2400}},
            {"type": "middle_out", "params": {"token_reduce_to": 2500}},
            {"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 0}},
        ],
    )
    assert [a["type"] for a in out.applied] == ["remove_tool_result", "middle_out", "token_limit"]
    assert out.tokens_after == 2381 and len(out.messages) == 14
    assert [a["message_ids"] for a in out.applied[1:]] == [[], []]


def test_a_pin_edits_only_up_to_it_and_passes_later_messages_through() -> None:
    messages = sample("openai")
    out = edit(
        messages,
        [{"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 0}}],
        editable=8,
    )
    assert out.applied[0]["message_ids"] == [5, 6, 8]  # the results up to id 8
    assert out.messages[8:] == messages[8:]  # id 9 on: as stored (id 10's result intact)
    assert out.messages[9] is messages[9]  # not even copied
    assert out.tokens_before == 2708 and out.tokens_after == 2708 - (129 + 63 + 100)


def test_a_pinned_prefix_reads_the_same_as_the_session_grows() -> None:
    """The prompt cache stays valid: more messages after the pin change nothing before it."""
    messages = sample("openai")
    edits = [
        {"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": 1}},
        {"type": "token_limit", "params": {"limit_tokens": 400}},
    ]
    first = edit(messages[:10], edits, editable=8)
    later = edit(messages, edits, editable=8)
    assert first.ids[: first.ids.index(8) + 1] == later.ids[: later.ids.index(8) + 1]
    cut = first.ids.index(8) + 1
    assert first.messages[:cut] == later.messages[:cut]
    assert first.applied == later.applied  # limits apply to the pinned prefix only


def test_a_pinned_prefix_keeps_a_call_whose_result_comes_after_the_pin() -> None:
    """Pinned at id 7 (run_tests' call, answered by id 8): dropping it would orphan the
    result after the pin, so the limit stays unmet rather than split the pair."""
    messages = sample("openai")
    out = edit(messages, [{"type": "token_limit", "params": {"limit_tokens": 10}}], editable=7)
    assert out.applied[0]["message_ids"] == [1, 2, 3, 4, 5, 6]
    assert out.ids == [7, 8, 9, 10, 11, 12, 13, 14]


# --- validation ---


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"type": "token_limit"}, "edits must be a list of strategy objects"),
        (["token_limit"], "edits[0] must be an object like"),
        (
            [{"type": "compress"}],
            "edits[0]: unknown strategy 'compress'; use one of remove_tool_result",
        ),
        ([{"type": "token_limit"}], "edits[0] (token_limit): 'limit_tokens' is required"),
        (
            [{"type": "token_limit", "params": {"limit_tokens": 0}}],
            "'limit_tokens' must be an integer >= 1 (got 0)",
        ),
        (
            [{"type": "middle_out", "params": {"token_reduce_to": 2.5}}],
            "'token_reduce_to' must be an integer >= 1 (got 2.5)",
        ),
        (
            [{"type": "remove_tool_result", "params": {"gt_token": True}}],
            "'gt_token' must be an integer >= 1 (got True)",
        ),
        (
            [{"type": "remove_tool_result", "params": {"keep_recent_n_tool_results": -1}}],
            "must be an integer >= 0 (got -1)",
        ),
        (
            [{"type": "remove_tool_call_params", "params": {"keep_tools": "run_tests"}}],
            "'keep_tools' must be a list of tool names",
        ),
        (
            [{"type": "remove_tool_result", "params": {"tool_result_placeholder": 1}}],
            "'tool_result_placeholder' must be a string",
        ),
        (
            [{"type": "remove_tool_result", "params": {"keep_recent_n": 2}}],
            "unknown param 'keep_recent_n'; remove_tool_result takes keep_recent_n_tool_results",
        ),
        (
            [{"type": "token_limit", "limit_tokens": 5}],
            "unknown key 'limit_tokens'; put knobs under 'params'",
        ),
        ([{"type": "token_limit", "params": [5]}], "'params' must be an object"),
        (
            [
                {"type": "middle_out", "params": {"token_reduce_to": 9}},
                {"type": "middle_out", "params": {"token_reduce_to": 5}},
            ],
            "edits[1] (middle_out): middle_out is given twice",
        ),
    ],
)
def test_bad_strategies_are_refused_with_what_to_fix(edits: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_strategies(edits)
    assert message in str(caught.value)


def test_defaults_are_filled_in_and_whole_floats_accepted() -> None:
    (strategy,) = parse_strategies(
        [{"type": "remove_tool_call_params", "params": {"gt_token": 5.0}}]
    )
    assert strategy.params == {"keep_recent_n_tool_calls": 3, "keep_tools": (), "gt_token": 5}

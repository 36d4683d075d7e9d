"""Outcome rules and the reply classifier: pure functions, checked on tables of real-looking
prompts (near misses included) and evidence lists."""

from __future__ import annotations

from typing import Any

import pytest

from acontext_mcp.observe.evidence import read_commit, read_failure
from acontext_mcp.observe.outcome import decide
from acontext_mcp.observe.prompts import classify_reply, is_housekeeping, is_intent

REPLIES = [
    # confirmations
    ("that worked", "confirmed"),
    ("That worked, thanks!", "confirmed"),
    ("perfect, thanks", "confirmed"),
    ("Perfect, thanks. Now add a README.", "confirmed"),
    ("thanks, that fixed it", "confirmed"),
    ("Great, it works now", "confirmed"),
    ("works now, thank you", "confirmed"),
    ("LGTM", "confirmed"),
    ("looks good to me", "confirmed"),
    ("all tests pass now", "confirmed"),
    ("ok that works", "confirmed"),
    ("ok, perfect", "confirmed"),
    ("Correct.", "confirmed"),
    ("That\u2019s it, thanks", "confirmed"),
    # corrections
    ("no, that's wrong", "corrected"),
    ("No, that's wrong: the greeting must say Hello.", "corrected"),
    ("still failing", "corrected"),
    ("ok but the tests are still failing", "corrected"),
    ("that didn't work", "corrected"),
    ("It still fails with the same error", "corrected"),
    ("nope.", "corrected"),
    ("you broke the build", "corrected"),
    ("not quite, the output should be sorted", "corrected"),
    ("the fix didn't work", "corrected"),
    # dropping it: not a failure
    ("never mind, leave it", "dropped"),
    ("Never mind.", "dropped"),
    ("actually, forget it", "dropped"),
    ("leave it for now", "dropped"),
    ("let's not do that", "dropped"),
    ("scratch that", "dropped"),
    ("no need", "dropped"),
    # near misses: no verdict
    ("that worked before but now the login page is blank", None),
    ("that worked? I still see errors", None),
    ("looks good, except the header is off", None),
    ("it works but not on windows", None),
    ("perfect is the enemy of good, just ship a draft of the docs", None),
    ("great, but it's slow", None),
    ("no worries, now add dark mode", None),
    ("No tests yet; please add some", None),
    ("never mind the tests, fix the login bug", None),
    ("forget about the cache and use redis", None),
    ("leave it to me to deploy later? no, run it now", None),
    ("did that work?", None),
    ("why is it still failing?", None),
    ("Fixed the typo in the README too? Then add a flag", None),
    ("Add dark mode", None),
    ("Fix the failing test in test_auth.py", None),
    ("Thanks!", None),
    ("/compact", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "verdict"), REPLIES)
def test_classify_reply(text: str, verdict: str | None) -> None:
    assert classify_reply(text) == verdict


def test_only_the_users_own_prompts_are_intents() -> None:
    prompt = {"role": "user", "parts": [{"type": "text", "text": "hi"}], "meta": {}}
    assert is_intent(prompt)
    assert not is_intent({**prompt, "role": "assistant"})
    assert not is_intent({**prompt, "meta": {"isCompactSummary": True}})
    assert not is_intent({**prompt, "meta": {"kind": "tool_result"}})
    result = {"type": "tool-result", "tool_call_id": "x", "content": []}
    assert not is_intent({**prompt, "parts": [result]})


def _e(kind: str, result: str) -> dict[str, Any]:
    return {"kind": kind, "result": result}


T_FAIL, T_PASS = _e("test", "failed"), _e("test", "passed")
B_FAIL, B_PASS = _e("build", "failed"), _e("build", "passed")
CONFIRM, CORRECT, DROP = (_e("user_reply", r) for r in ("confirmed", "corrected", "dropped"))
COMMIT, COMMIT_FAIL = _e("commit", "passed"), _e("commit", "failed")
TOOL_FAIL, DONE = _e("tool_failure", "failed"), _e("task_completed", "completed")

OUTCOMES = [
    ([], "unverified"),
    ([DONE, COMMIT], "unverified"),  # the agent's own say-so
    ([T_FAIL, T_PASS], "verified_success"),
    ([T_PASS, T_FAIL], "verified_failure"),
    ([T_PASS, B_FAIL], "verified_failure"),  # the last run of each kind counts
    ([B_FAIL, T_PASS, B_PASS], "verified_success"),
    ([T_PASS, COMMIT], "verified_success"),
    ([T_PASS, TOOL_FAIL], "unverified"),  # something failed after the check
    ([T_PASS, COMMIT_FAIL], "unverified"),
    ([TOOL_FAIL, T_PASS], "verified_success"),
    ([CONFIRM], "verified_success"),
    ([T_FAIL, CONFIRM], "unverified"),  # the confirmation contradicts the last run
    ([T_PASS, CORRECT], "verified_failure"),
    ([T_PASS, CORRECT, T_FAIL, T_PASS], "verified_success"),  # fixed after the correction
    ([T_PASS, CORRECT, T_PASS, T_FAIL], "verified_failure"),
    ([T_PASS, CONFIRM, CORRECT], "verified_failure"),  # the last reply decides
    ([T_FAIL, DROP], "abandoned"),
    ([CORRECT, DROP], "abandoned"),
    ([DROP, T_PASS], "abandoned"),
    ([_e("something_new", "passed")], "unverified"),
]


@pytest.mark.parametrize(("evidence", "outcome"), OUTCOMES)
def test_decide(evidence: list[dict[str, Any]], outcome: str) -> None:
    assert decide(evidence) == outcome


@pytest.mark.parametrize(
    ("command", "text", "is_error", "found"),
    [
        ("git commit -m 'x'", "[main 1a2b3c4] x\n 1 file changed", False, ("commit", True)),
        ("git -C repo commit -am x", "[main 9f] x", False, ("commit", True)),
        ("git add . && git commit -m x", "Exit code 1\nnothing to commit", True, ("commit", False)),
        ("git status", "On branch main", False, None),
        ("git log --grep commit", "", False, None),
    ],
)  # fmt: skip
def test_read_commit(command: str, text: str, is_error: bool, found: Any) -> None:
    evidence = read_commit(command, text, is_error)
    assert (None if evidence is None else (evidence.kind, evidence.passed)) == found


@pytest.mark.parametrize(
    ("command", "text", "is_error", "exit_code"),
    [
        ("python3 app.py", "Exit code 1\nTraceback", True, 1),
        ("./deploy.sh", "Exit code 127\nnot found", True, 127),
        ("python3 app.py", "ok", False, None),  # succeeded
        ("grep -r TODO src", "Exit code 1", True, None),  # no match is an answer
        ("diff a b", "Exit code 1\n< x\n> y", True, None),
        ("grep -r TODO src", "Exit code 2\nNo such file", True, 2),  # grep's real error
        ("pytest", "Exit code 1\n1 failed", True, None),  # a check run, read elsewhere
        ("git commit -m x", "Exit code 1", True, None),
    ],
)
def test_read_failure(command: str, text: str, is_error: bool, exit_code: int | None) -> None:
    evidence = read_failure(command, text, is_error)
    assert (None if evidence is None else evidence.exit_code) == exit_code


def test_housekeeping_slash_commands_are_no_requests() -> None:
    compact = "<command-name>/compact</command-name>\n<command-args></command-args>"
    assert is_housekeeping(compact)
    assert not is_housekeeping("<command-name>/fix-tests</command-name>")
    assert not is_housekeeping("compact the log files")

"""How a task went, settled from its captured evidence by fixed rules: no LLM, no opinion.

Trigger: a task becomes success or failed, new evidence arrives for a finished task (the
user's next prompt, a late test run), or running tasks are finished at the end of a session.
Why: a lesson is only worth learning from a verified outcome; the model saying "done" is not
one. Outcome: `decide(evidence)` returns one of `verified_success`, `verified_failure`,
`unverified`, `abandoned`. Pure: it reads the evidence list (oldest first, as
`store.tasks.task_evidence` returns it) and nothing else.

Evidence kinds (`task_evidence.kind`, result in brackets):
- `test`, `build`, `typecheck`, `lint` [passed | failed]: a verification run read from a
  shell tool result (observe/evidence.py): exit code and runner counts.
- `user_reply` [confirmed | corrected | dropped]: the user's next prompt (observe/prompts.py).
- `tool_failure` [failed]: a shell command that failed (what Claude Code reports as
  `PostToolUseFailure`) and is no verification run.
- `commit` [passed | failed]: a `git commit`.
- `task_completed` [completed]: the host's own `TaskCompleted` event for one of the task's steps.

Rules, in order:
1. The user's last reply decides, unless verification runs came after it:
   dropped -> `abandoned` (a change of mind is not a failure, and nothing is learned from it);
   corrected -> `verified_failure`; confirmed -> `verified_success`, or `unverified` when
   the last run of some check before it failed (the confirmation contradicts the evidence).
   Runs after the reply mean the work went on: rule 2 reads those runs only.
2. Verification runs: the last run of each kind (test, build, typecheck, lint) counts. Any
   of them failed -> `verified_failure`. All passed -> `verified_success`, unless a tool
   failure or a failed commit came after the last run (something broke after the check):
   then `unverified`.
3. Nothing of the above -> `unverified`. A commit or a `task_completed` alone never verifies
   a task: they are the agent's own say-so, recorded for the record and for the learner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

VERIFIED_SUCCESS = "verified_success"
VERIFIED_FAILURE = "verified_failure"
UNVERIFIED = "unverified"
ABANDONED = "abandoned"

CHECK_KINDS = ("test", "build", "typecheck", "lint")
USER_REPLY = "user_reply"
TOOL_FAILURE = "tool_failure"
COMMIT = "commit"
TASK_COMPLETED = "task_completed"
EVIDENCE_KINDS = (*CHECK_KINDS, USER_REPLY, TOOL_FAILURE, COMMIT, TASK_COMPLETED)

PASSED, FAILED = "passed", "failed"

Evidence = Mapping[str, Any]


def decide(evidence: Sequence[Evidence]) -> str:
    """The outcome the rules in the module docstring give for this evidence, oldest first."""
    items = [e for e in evidence if e.get("kind") in EVIDENCE_KINDS]
    replies = [i for i, e in enumerate(items) if e["kind"] == USER_REPLY]
    if replies:
        at = replies[-1]
        reply, before, after = items[at].get("result"), items[:at], items[at + 1 :]
        if reply == "dropped":
            return ABANDONED
        if not _runs(after):
            if reply == "corrected":
                return VERIFIED_FAILURE
            if reply == "confirmed":
                return UNVERIFIED if _failing(before) else VERIFIED_SUCCESS
        else:
            return _by_runs(after)
    return _by_runs(items)


def _runs(items: Sequence[Evidence]) -> list[int]:
    return [i for i, e in enumerate(items) if e["kind"] in CHECK_KINDS]


def _failing(items: Sequence[Evidence]) -> bool:
    """Whether the last run of some check kind failed."""
    last = {e["kind"]: e.get("result") for e in items if e["kind"] in CHECK_KINDS}
    return any(result != PASSED for result in last.values())


def _by_runs(items: Sequence[Evidence]) -> str:
    runs = _runs(items)
    if not runs:
        return UNVERIFIED
    if _failing(items):
        return VERIFIED_FAILURE
    later = items[runs[-1] + 1 :]
    broke = any(e["kind"] in (TOOL_FAILURE, COMMIT) and e.get("result") == FAILED for e in later)
    return UNVERIFIED if broke else VERIFIED_SUCCESS

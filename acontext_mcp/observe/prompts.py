"""User prompts: which stored messages state what the user wants, and what a reply says about
the work before it, without any LLM.

Trigger: observation reads a session's messages (the todo tracker, the task agent). Why: the
user's next prompt is the most direct outside signal of whether the agent's last piece of work
was right ("that worked", "no, that's wrong", "never mind, leave it"), and a lesson must come
from such a signal, not from the model's opinion. Outcome: `is_intent` picks the user's own
prompts; `classify_reply` reads the head of a prompt and answers `confirmed`, `corrected`,
`dropped` or None.

The classifier is conservative: it reads only the prompt's first sentence, a confirmation
must open it ("perfect, thanks", "that worked") and is void when the sentence also hedges
("that worked before but now ...", "looks good, except ..."), and a question is no verdict.
A correction may sit anywhere in the first sentence ("ok but it's still failing"). Dropping
("never mind, leave it", "forget it") is checked first: a change of mind is not a failure.
"""

from __future__ import annotations

import re
from typing import Any

INTENT_KINDS = ("prompt", "command")
CONFIRMED, CORRECTED, DROPPED = "confirmed", "corrected", "dropped"
HEAD_CHARS = 200

_FILLER = (
    r"(?:(?:ok(?:ay)?|oh|ah|hmm+|um+|well|actually|sorry|wait|so|and|yes|yeah|yep|hey)[,.!]*\s+)*"
)
_END = r"(?=$|[\s,.;:!)\-—–])"
_DROP = re.compile(
    rf"^{_FILLER}(?:"
    rf"never\s*mind(?:\s+(?:it|that|this|then|for now|about (?:it|that)))?{_END}"
    r"(?!\s+(?:the|about)\b)"
    rf"|forget (?:it|about it|that|this|about that){_END}"
    rf"|leave it(?:\s+(?:be|for now|there|as is))?(?=$|[,.;:!)\-—–])"
    rf"|(?:drop|skip|cancel|scrap|abandon) (?:it|that|this)(?: task)?{_END}"
    rf"|scratch that{_END}"
    rf"|don'?t bother{_END}"
    rf"|let'?s (?:not|stop|drop it|leave it|skip it){_END}"
    rf"|stop (?:working on (?:it|that|this)|it|that){_END}"
    rf"|no need(?: for (?:it|that|this))?{_END}"
    rf"|not needed (?:any ?more|after all){_END}"
    r")"
)
_CORRECT_START = re.compile(
    rf"^{_FILLER}(?:no|nope|nah|wrong|incorrect|not quite)(?=\s*[,.;:!\-—–]|$)"
)
_NOT_A_CORRECTION = re.compile(
    r"^(?:no|nope|nah)\W+(?:worries|problem|thanks|that'?s (?:fine|good|great|perfect|ok))\b"
)
_CORRECT = re.compile(
    r"\b(?:still|again)\s+(?:fail(?:s|ing|ed)?|broken|crash(?:es|ing)?|erroring|errors?|red|wrong"
    r"|the same (?:error|failure)|not (?:working|passing|fixed|right)"
    r"|(?:doesn'?t|does not|don'?t) work)\b"
    r"|\b(?:that|this|it|that one|the fix|your (?:fix|change))(?:'s|\s+is|\s+was)\s+"
    r"(?:wrong|not right|incorrect|broken|not what i (?:asked|wanted))\b"
    r"|\b(?:that|this|it|the fix|your (?:fix|change))\s+"
    r"(?:didn'?t|did not|doesn'?t|does not|won'?t)\s+"
    r"(?:work|fix (?:it|anything|the)|pass|compile|build|run)\b"
    r"|\byou (?:broke|broken)\b|\bbroke (?:it|the|everything)\b"
    r"|\bnot (?:fixed|working|what i (?:asked|wanted))\b"
)
_CONFIRM = re.compile(
    rf"^{_FILLER}(?:(?:thanks|thank you|thx|great|perfect|awesome|excellent|nice|cool|brilliant"
    rf"|fantastic|lovely|sweet)[,.!]*\s+)*(?:"
    r"(?:that|this|it)\s+(?:worked|works|work now|did it|did the trick|fixed it|fixes it"
    r"|is (?:right|correct|fixed))"
    r"|(?:works|worked|working) (?:now|great|perfectly|fine|like a charm)"
    r"|(?:all )?tests? (?:pass(?:es|ed)?|(?:are |is )?(?:green|passing))(?: now)?"
    r"|(?:looks|that looks|this looks|it looks) (?:good|great|right|correct|perfect)"
    r"|lgtm|all good|ship it|that'?s (?:right|it|correct|perfect|great)"
    r"|nice work|good job|well done"
    r")(?=$|[\s,.;:!)])"
    rf"|^{_FILLER}(?:perfect|great|awesome|excellent|brilliant|fantastic|fixed|exactly|correct)"
    r"(?:\s+(?:thanks|thank you|right))?(?=$|[,.;:!)])"
)
_HEDGE = re.compile(
    r"\b(?:but|however|except|although|though|before|until|unless|yet|still|not|no longer"
    r"|almost|nearly|mostly|partly|partially|if)\b|n'?t\b"
)
_SENTENCE = re.compile(r"[.!?\n]")
_COMMAND_NAME = re.compile(r"<command-name>\s*/?([\w:-]+)\s*</command-name>")
# Slash commands that look after the session rather than ask for work.
HOUSEKEEPING = frozenset(
    [
        "compact",
        "clear",
        "cost",
        "help",
        "model",
        "context",
        "status",
        "config",
        "memory",
        "doctor",
        "resume",
        "login",
        "logout",
        "exit",
        "permissions",
        "hooks",
        "mcp",
        "agents",
        "plugin",
        "plugins",
        "skills",
        "usage",
        "rewind",
        "export",
    ]
)


def is_intent(message: dict[str, Any]) -> bool:
    """A user message that states what the user wants: typed prompts and slash commands
    (Claude Code capture marks the rest in meta.kind), never tool results or summaries."""
    if message["role"] != "user":
        return False
    meta = message.get("meta") or {}
    if meta.get("isCompactSummary") or meta.get("original_role") in ("system", "developer"):
        return False
    if meta.get("kind", "prompt") not in INTENT_KINDS:
        return False
    return not any(isinstance(p, dict) and p.get("type") == "tool-result" for p in message["parts"])


def is_housekeeping(text: str) -> bool:
    """Whether a prompt is a slash command that asks for no work (`/compact`, `/clear` ...):
    it neither opens a request nor judges one."""
    match = _COMMAND_NAME.search(text) if isinstance(text, str) else None
    return bool(match and match.group(1).lower() in HOUSEKEEPING)


def joined_text(parts: Any) -> str:
    """The text parts of a list of parts (a message's, a tool result's), joined by newlines."""
    if not isinstance(parts, list):
        return ""
    return "\n".join(
        p["text"]
        for p in parts
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
    )


def prompt_text(parts: Any) -> str:
    """The text parts of a user message, joined."""
    return joined_text(parts).strip()


def _head(text: str) -> tuple[str, bool]:
    """The prompt's first sentence, normalised (lower case, plain quotes, single spaces), and
    whether it ends in a question mark."""
    text = text.strip().lower().replace("\u2019", "'").replace("\u2018", "'")[:HEAD_CHARS]
    match = _SENTENCE.search(text)
    head = text[: match.start()] if match else text
    question = bool(match and match.group() == "?")
    return " ".join(head.split()), question


def classify_reply(text: str) -> str | None:
    """What the user's prompt says about the work before it: `dropped` (the user let it go:
    not a failure), `corrected` (it is wrong or still failing), `confirmed` (it worked), or
    None (no clear verdict: a new request, a question, a hedge)."""
    if not isinstance(text, str) or not text.strip() or text.lstrip().startswith(("/", "<")):
        return None
    head, question = _head(text)
    if not head:
        return None
    if _DROP.search(head):
        return DROPPED
    if question:
        return None
    if (_CORRECT_START.search(head) and not _NOT_A_CORRECTION.search(head)) or _CORRECT.search(
        head
    ):
        return CORRECTED
    if _CONFIRM.search(head) and not _HEDGE.search(head):
        return CONFIRMED
    return None

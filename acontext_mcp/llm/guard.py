"""The wrapper every LLM call goes through: redaction, the daily budget, retries, recording.

A `Backend` (openai_provider, anthropic_provider, claude_cli) sends one request and either
returns a `Reply` or raises `CallFailed` saying what went wrong and whether a retry may help.
`Guard` turns a backend into a `Provider`:

1. Redaction. The system prompt goes through `redact_text` and every message through
   `redact_message` (text, tool-call arguments, tool results, metadata), so a secret that
   slipped into the store, or a new one in a prompt, never reaches the provider.
2. Budget. Before each attempt, today's tokens (in + out, from `llm_calls`) plus an estimate of
   this request's input must stay within `ACONTEXT_LLM_DAILY_TOKENS`; otherwise a `budget` row is
   recorded, nothing is sent, and `BudgetExhausted` is raised: the caller leaves its work queued.
3. Retries. 429, 5xx, timeouts and connection errors are retried up to
   `ACONTEXT_LLM_MAX_RETRIES` times with exponential backoff and jitter, honouring Retry-After
   (up to a cap: a provider asking for a longer wait gets `ProviderFailed`, and the work waits).
   The SDKs' own retries are off (max_retries=0), so every attempt is ours and recorded.
4. Recording. Each attempt is one `llm_calls` row: purpose, provider, model, session, tokens,
   duration, outcome (ok, error, timeout, rate_limited, budget) and error text.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Protocol

from acontext_mcp.formats.parts import estimate_tokens
from acontext_mcp.llm import BudgetExhausted, ProviderFailed, Reply, ToolCall, ToolSpec
from acontext_mcp.privacy.redact import redact_message, redact_text
from acontext_mcp.store import usage
from acontext_mcp.text import clip

log = logging.getLogger(__name__)

BACKOFF_BASE = 1.0  # seconds before the first retry, doubled each time
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 120.0  # a provider asking to wait longer than this: give up for now


class CallFailed(Exception):
    """One attempt failed. `outcome` is the llm_calls outcome (error, timeout, rate_limited);
    `retryable` says whether trying again may help; `retry_after` is the provider's wish."""

    def __init__(
        self,
        message: str,
        *,
        outcome: str = "error",
        retryable: bool = True,
        retry_after: float | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.retryable = retryable
        self.retry_after = retry_after
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens


def sdk_client(factory: Any, *, base_url: str | None, api_key: str | None, timeout: float) -> Any:
    """An SDK client (openai.OpenAI, anthropic.Anthropic) with the SDK's own retries off:
    the Guard's retries are the only ones, so each attempt is counted and recorded."""
    kwargs: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    return factory(**kwargs)


class Backend(Protocol):
    """Sends one request; the Guard does everything else."""

    name: str
    model: str

    def send(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        max_tokens: int,
    ) -> Reply: ...


class Guard:
    """A `Provider`: a backend behind redaction, the budget, retries and recording."""

    def __init__(
        self,
        backend: Backend,
        conn: sqlite3.Connection,
        *,
        daily_tokens: int,
        max_retries: int = 3,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        retry_after_cap: float = RETRY_AFTER_CAP,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.backend = backend
        self.conn = conn
        self.daily_tokens = daily_tokens
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.sleep = sleep
        self.rng = rng

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def model(self) -> str:
        return self.backend.model

    def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec],
        purpose: str,
        session_id: str | None = None,
        max_tokens: int = 2048,
    ) -> Reply:
        system = redact_text(system or "")[0]
        safe = [redact_message(m)[0] for m in messages]
        estimate = _estimate(system, safe, tools)
        last = ""
        for attempt in range(self.max_retries + 1):
            self._check_budget(purpose, session_id, estimate)
            started = time.time()
            t0 = time.perf_counter()
            try:
                reply = self.backend.send(
                    system=system, messages=safe, tools=tools, max_tokens=max_tokens
                )
            except CallFailed as exc:
                last = redact_text(str(exc))[0]
                self._record(
                    purpose,
                    session_id,
                    exc.outcome,
                    started,
                    t0,
                    error=last,
                    tokens=(exc.input_tokens, exc.output_tokens),
                )
                wait = self._delay(attempt, exc.retry_after)
                if not exc.retryable or attempt == self.max_retries or wait is None:
                    break
                log.info("llm %s: %s; retry %d in %.1fs", self.name, last, attempt + 1, wait)
                self.sleep(wait)
                continue
            except Exception as exc:  # a bug in a backend or an SDK surprise: record, stop
                last = redact_text(f"{type(exc).__name__}: {exc}")[0]
                self._record(purpose, session_id, "error", started, t0, error=last)
                raise ProviderFailed(f"{self._who()} failed: {last}") from exc
            self._record(
                purpose,
                session_id,
                "ok",
                started,
                t0,
                tokens=(reply.input_tokens, reply.output_tokens),
            )
            if not reply.model:
                reply.model = self.model
            return reply
        raise ProviderFailed(f"{self._who()} failed after {attempt + 1} attempt(s): {last}")

    def close(self) -> None:
        """Release the backend's HTTP connections (a no-op for the CLI)."""
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    # --- Helpers ---

    def _who(self) -> str:
        return f"LLM provider {self.name} ({self.model})"

    def _check_budget(self, purpose: str, session_id: str | None, estimate: int) -> None:
        used = usage.tokens_on(self.conn)
        if used + estimate <= self.daily_tokens:
            return
        reason = (
            f"today's LLM token budget is spent ({used:,} of {self.daily_tokens:,} tokens used; "
            f"this call needs about {estimate:,} more). LLM work waits until tomorrow, or raise "
            "ACONTEXT_LLM_DAILY_TOKENS; nothing is lost."
        )
        log.warning("llm budget: %s", reason)
        now = time.time()
        usage.record_call(
            self.conn,
            provider=self.name,
            model=self.model,
            purpose=purpose,
            session_id=session_id,
            outcome="budget",
            error=reason,
            started=now,
        )
        raise BudgetExhausted(reason)

    def _record(
        self,
        purpose: str,
        session_id: str | None,
        outcome: str,
        started: float,
        t0: float,
        *,
        error: str | None = None,
        tokens: tuple[int, int] = (0, 0),
    ) -> None:
        usage.record_call(
            self.conn,
            provider=self.name,
            model=self.model,
            purpose=purpose,
            session_id=session_id,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            duration_ms=(time.perf_counter() - t0) * 1000,
            outcome=outcome,
            error=error,
            started=started,
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before the next attempt: exponential with jitter (half to full), at least
        what Retry-After asked; None when the provider asks for more than we wait."""
        if retry_after is not None and retry_after > self.retry_after_cap:
            return None
        base = min(self.backoff_cap, self.backoff_base * (2**attempt))
        wait = base * (0.5 + self.rng() / 2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


def _estimate(system: str, messages: list[dict[str, Any]], tools: list[ToolSpec]) -> int:
    """A cheap input-token estimate (about four characters a token)."""
    total = (len(system) + 3) // 4
    for message in messages:
        try:
            total += estimate_tokens(message)  # type: ignore[arg-type]
        except (KeyError, TypeError):
            total += len(json.dumps(message, default=str)) // 4
    for tool in tools:
        total += (len(tool.name) + len(tool.description) + len(json.dumps(tool.parameters))) // 4
    return total


# --- Shared by the backends ---


def tool_call(call_id: str, name: str, arguments: Any) -> ToolCall:
    """A ToolCall from raw arguments (JSON text or an already parsed value). Anything but a JSON
    object gives `arguments={}` and an `error` the caller sends back to the model."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
    value = arguments
    if isinstance(arguments, str):
        text = arguments.strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return ToolCall(
                call_id,
                name,
                {},
                raw,
                f"arguments are not valid JSON ({exc.msg} at character {exc.pos}); "
                "call the tool again with a JSON object",
            )
    if not isinstance(value, dict):
        kind = type(value).__name__
        return ToolCall(
            call_id, name, {}, raw, f"arguments must be a JSON object, got {kind}; call again"
        )
    return ToolCall(call_id, name, value, raw)


def retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if given."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
    except (AttributeError, ValueError):
        return None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def sdk_failure(exc: Exception, sdk: Any) -> CallFailed:
    """Classify an openai/anthropic SDK exception (both SDKs share these names)."""
    if isinstance(exc, sdk.APITimeoutError):
        return CallFailed(f"timed out: {exc}", outcome="timeout")
    if isinstance(exc, sdk.APIConnectionError):
        return CallFailed(f"connection error: {exc}", outcome="error")
    if isinstance(exc, sdk.APIStatusError):
        status = int(getattr(exc, "status_code", 0) or 0)
        response = getattr(exc, "response", None)
        after = retry_after(getattr(response, "headers", None))
        message = f"HTTP {status}: {_short(exc)}"
        if status == 429:
            return CallFailed(message, outcome="rate_limited", retry_after=after)
        retryable = status in (408, 409) or status >= 500
        return CallFailed(message, outcome="error", retryable=retryable, retry_after=after)
    if isinstance(exc, sdk.APIError):  # e.g. a response body that is not what the SDK expects
        return CallFailed(f"bad response: {_short(exc)}", outcome="error")
    return CallFailed(f"{type(exc).__name__}: {_short(exc)}", retryable=False)


def _short(exc: Exception) -> str:
    return clip(str(exc), 500, tail="...")

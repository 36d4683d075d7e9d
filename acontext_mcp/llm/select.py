"""Which LLM provider runs, and why.

`ACONTEXT_LLM_PROVIDER` = openai | anthropic | claude-cli | none | auto (the default). Auto
takes the first that applies:

1. `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) is set -> anthropic
2. `OPENAI_API_KEY` is set -> openai
3. `ACONTEXT_LLM_BASE_URL` is set -> openai (a local OpenAI-compatible server needs no key)
4. `claude` is on PATH -> claude-cli (the user's Claude Code login; no key needed)
5. none: capture and storage work; LLM work waits

Default models: openai gpt-4.1-mini, anthropic claude-haiku-4-5, claude-cli haiku.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from acontext_mcp.config import Settings
from acontext_mcp.llm import NoProvider, Provider

PROVIDERS = ("openai", "anthropic", "claude-cli", "none", "auto")
NO_PROVIDER = "none: capture works, learning waits"


@dataclass(frozen=True)
class Choice:
    name: str  # openai, anthropic, claude-cli or none
    model: str | None
    reason: str


def default_model(name: str) -> str | None:
    if name == "openai":
        from acontext_mcp.llm.openai_provider import DEFAULT_MODEL
    elif name == "anthropic":
        from acontext_mcp.llm.anthropic_provider import DEFAULT_MODEL
    elif name == "claude-cli":
        from acontext_mcp.llm.claude_cli import DEFAULT_MODEL
    else:
        return None
    return DEFAULT_MODEL


def choose(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Choice:
    """The provider the settings and environment select, with the reason in words."""
    env = os.environ if env is None else env
    wanted = (settings.llm_provider or "auto").strip().lower()

    def made(name: str, reason: str) -> Choice:
        return Choice(name, settings.llm_model or default_model(name), reason)

    if wanted not in PROVIDERS:
        return Choice(
            "none", None,
            f"ACONTEXT_LLM_PROVIDER={wanted!r} is not one of {', '.join(PROVIDERS)}",
        )  # fmt: skip
    if wanted == "none":
        return Choice("none", None, "ACONTEXT_LLM_PROVIDER=none")
    if wanted == "openai":
        if env.get("OPENAI_API_KEY") or settings.llm_base_url or env.get("OPENAI_BASE_URL"):
            return made("openai", "ACONTEXT_LLM_PROVIDER=openai")
        return Choice(
            "none", None,
            "ACONTEXT_LLM_PROVIDER=openai but neither OPENAI_API_KEY nor a base URL is set",
        )  # fmt: skip
    if wanted == "anthropic":
        if env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN"):
            return made("anthropic", "ACONTEXT_LLM_PROVIDER=anthropic")
        if settings.llm_base_url or env.get("ANTHROPIC_BASE_URL"):
            return made("anthropic", "ACONTEXT_LLM_PROVIDER=anthropic with a base URL")
        return Choice(
            "none", None, "ACONTEXT_LLM_PROVIDER=anthropic but ANTHROPIC_API_KEY is not set"
        )
    if wanted == "claude-cli":
        if which("claude"):
            return made("claude-cli", "ACONTEXT_LLM_PROVIDER=claude-cli")
        return Choice("none", None, "ACONTEXT_LLM_PROVIDER=claude-cli but `claude` is not on PATH")
    # auto
    if env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN"):
        return made("anthropic", "auto: ANTHROPIC_API_KEY is set")
    if env.get("OPENAI_API_KEY"):
        return made("openai", "auto: OPENAI_API_KEY is set")
    if settings.llm_base_url:
        return made("openai", "auto: ACONTEXT_LLM_BASE_URL is set (OpenAI-compatible)")
    if which("claude"):
        return made("claude-cli", "auto: `claude` is on PATH (uses your Claude Code login)")
    return Choice(
        "none", None, "auto: no ANTHROPIC_API_KEY, OPENAI_API_KEY, base URL or `claude` on PATH"
    )


def describe(settings: Settings) -> str:
    """One line for status and doctor: the provider and model and why, or why none."""
    choice = choose(settings)
    if choice.name == "none":
        return f"{NO_PROVIDER} ({choice.reason})"
    where = f" at {settings.llm_base_url}" if settings.llm_base_url else ""
    return (
        f"{choice.name} / {choice.model}{where} ({choice.reason}); "
        f"budget {settings.llm_daily_tokens:,} tokens a day"
    )


def provider_for(settings: Settings, conn: sqlite3.Connection) -> Provider:
    """The configured provider behind the Guard; raises NoProvider saying why there is none."""
    from acontext_mcp.llm.guard import Guard

    choice = choose(settings)
    if choice.name == "none":
        raise NoProvider(f"no LLM provider: {choice.reason}. Capture works; LLM work waits.")
    backend: object
    if choice.name == "openai":
        from acontext_mcp.llm.openai_provider import OpenAIBackend

        key = os.environ.get("OPENAI_API_KEY") or None
        base = settings.llm_base_url
        if key is None and (base or os.environ.get("OPENAI_BASE_URL")):
            key = "not-needed"  # local servers ignore it; the SDK requires one
        backend = OpenAIBackend(
            model=choice.model, base_url=base, api_key=key, timeout=settings.llm_timeout
        )
    elif choice.name == "anthropic":
        from acontext_mcp.llm.anthropic_provider import AnthropicBackend

        key = os.environ.get("ANTHROPIC_API_KEY") or None
        if key is None and not os.environ.get("ANTHROPIC_AUTH_TOKEN"):
            key = "not-needed"  # a compatible server without auth
        backend = AnthropicBackend(
            model=choice.model, base_url=settings.llm_base_url, api_key=key,
            timeout=settings.llm_timeout,
        )  # fmt: skip
    else:
        from acontext_mcp.llm.claude_cli import ClaudeCLIBackend

        backend = ClaudeCLIBackend(
            model=choice.model, timeout=settings.llm_timeout, cwd=settings.home / "claude-cli"
        )
    return Guard(
        backend,  # type: ignore[arg-type]
        conn,
        daily_tokens=settings.llm_daily_tokens,
        max_retries=settings.llm_max_retries,
    )

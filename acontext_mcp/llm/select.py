"""Which LLM provider runs, and why.

The provider is a choice (llm/setting.py): `llm.provider` in `<home>/config.json`, or
`ACONTEXT_LLM_PROVIDER` over it; without either it is `none`. Values: openai | anthropic |
claude-cli | none | auto. `auto`, only when asked for, takes the first that applies:

1. `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) is set -> anthropic
2. `OPENAI_API_KEY` is set -> openai
3. a base URL is set -> openai (a local OpenAI-compatible server needs no key)
4. `claude` is on PATH -> claude-cli (the user's Claude Code login; no key needed)
5. none: capture and storage work; LLM work waits

Default models: openai gpt-4.1-mini, anthropic claude-haiku-4-5, claude-cli haiku.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from acontext_mcp.config import Settings, llm_credentials
from acontext_mcp.llm import NoProvider, Provider
from acontext_mcp.llm.setting import PROVIDERS, wanted

NO_PROVIDER = "none: capture works, learning waits"


@dataclass(frozen=True)
class Choice:
    name: str  # openai, anthropic, claude-cli or none
    model: str | None
    reason: str  # where the choice came from and, for none, why nothing runs
    base_url: str | None = None


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
    """The provider config.json and the environment select, with the reason in words."""
    env = llm_credentials() if env is None else env
    want = wanted(settings)
    name, src, base = want.provider, want.source, want.base_url

    def made(chosen: str, reason: str) -> Choice:
        return Choice(chosen, want.model or default_model(chosen), reason, base)

    def nothing(reason: str) -> Choice:
        return Choice("none", None, reason)

    if name not in PROVIDERS:
        return nothing(f"{src}: {name!r} is not one of {', '.join(PROVIDERS)}")
    if name == "none":
        return nothing(src)
    if name == "openai":
        if env.get("OPENAI_API_KEY") or base or env.get("OPENAI_BASE_URL"):
            return made("openai", src)
        return nothing(f"{src} but neither OPENAI_API_KEY nor a base URL is set")
    if name == "anthropic":
        if env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN"):
            return made("anthropic", src)
        if base or env.get("ANTHROPIC_BASE_URL"):
            return made("anthropic", f"{src} with a base URL")
        return nothing(f"{src} but ANTHROPIC_API_KEY is not set")
    if name == "claude-cli":
        if which("claude"):
            return made("claude-cli", src)
        return nothing(f"{src} but `claude` is not on PATH")
    # auto, asked for explicitly
    if env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN"):
        return made("anthropic", f"{src}: ANTHROPIC_API_KEY is set")
    if env.get("OPENAI_API_KEY"):
        return made("openai", f"{src}: OPENAI_API_KEY is set")
    if base:
        return made("openai", f"{src}: a base URL is set (OpenAI-compatible)")
    if which("claude"):
        return made("claude-cli", f"{src}: `claude` is on PATH (uses your Claude Code login)")
    return nothing(f"{src}: no ANTHROPIC_API_KEY, OPENAI_API_KEY, base URL or `claude` on PATH")


def describe(settings: Settings) -> str:
    """One line for status, doctor and usage: the provider and model the worker will use and
    why, or why none."""
    choice = choose(settings)
    if choice.name == "none":
        return f"{NO_PROVIDER} ({choice.reason})"
    where = f" at {choice.base_url}" if choice.base_url else ""
    return (
        f"{choice.name} / {choice.model}{where} ({choice.reason}); "
        f"budget {settings.llm_daily_tokens:,} tokens a day"
    )


def provider_for(settings: Settings, conn: sqlite3.Connection) -> Provider:
    """The configured provider behind the Guard; raises NoProvider saying why there is none."""
    from acontext_mcp.llm.guard import Guard

    choice = choose(settings)
    creds = llm_credentials()
    if choice.name == "none":
        raise NoProvider(f"no LLM provider: {choice.reason}. Capture works; LLM work waits.")
    backend: object
    if choice.name == "openai":
        from acontext_mcp.llm.openai_provider import OpenAIBackend

        key = creds.get("OPENAI_API_KEY")
        base = choice.base_url
        if key is None and (base or creds.get("OPENAI_BASE_URL")):
            key = "not-needed"  # local servers ignore it; the SDK requires one
        backend = OpenAIBackend(
            model=choice.model, base_url=base, api_key=key, timeout=settings.llm_timeout
        )
    elif choice.name == "anthropic":
        from acontext_mcp.llm.anthropic_provider import AnthropicBackend

        key = creds.get("ANTHROPIC_API_KEY")
        if key is None and not creds.get("ANTHROPIC_AUTH_TOKEN"):
            key = "not-needed"  # a compatible server without auth
        backend = AnthropicBackend(
            model=choice.model,
            base_url=choice.base_url,
            api_key=key,
            timeout=settings.llm_timeout,
        )
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

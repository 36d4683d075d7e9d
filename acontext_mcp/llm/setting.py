"""The LLM provider the user chose: `llm` in `<home>/config.json`, env variables on top.

Trigger: conversations reached an LLM because `auto` found a key or `claude` in the
environment the hooks inherit, while the user's shell (status, doctor, usage) saw none.
Why: sending conversations off the machine must be a choice, and every process (hooks,
worker, server, the CLI) must arrive at the same one. Outcome: the choice is a file every
process reads; without one the provider is `none`.

    {"llm": {"provider": "none" | "openai" | "anthropic" | "claude-cli" | "auto",
             "model": "...", "base_url": "..."}}

`ACONTEXT_LLM_PROVIDER`, `ACONTEXT_LLM_MODEL` and `ACONTEXT_LLM_BASE_URL` still override it.
`model` and `base_url` from the file belong to its provider: they apply only while that
provider is the one in force. `auto` (detect from keys and PATH) is only ever an explicit
value. A file that cannot be read means `none`: nothing leaves the machine on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acontext_mcp.config import Settings
from acontext_mcp.errors import InvalidInput
from acontext_mcp.user_config import CONFIG_FILE, read, update

PROVIDERS = ("none", "openai", "anthropic", "claude-cli", "auto")
TURN_ON = "acontext-mcp config llm claude-cli|anthropic|openai"


@dataclass(frozen=True)
class Wanted:
    """The provider asked for (maybe not a valid name), where that came from, in words, and
    the model and base URL that go with it."""

    provider: str
    source: str
    model: str | None = None
    base_url: str | None = None


def configured(settings: Settings) -> tuple[dict[str, Any], str | None]:
    """(the `llm` entry of config.json, None), or ({}, why it cannot be used)."""
    data, problem = read(settings)
    if problem:
        return {}, problem
    entry = data.get("llm")
    if entry is None:
        return {}, None
    if not isinstance(entry, dict):
        return {}, f"{CONFIG_FILE} llm is not an object"
    for key in ("provider", "model", "base_url"):
        if entry.get(key) is not None and not isinstance(entry.get(key), str):
            return {}, f"{CONFIG_FILE} llm.{key} is not a string"
    return entry, None


def wanted(settings: Settings) -> Wanted:
    """The provider in force for `settings` (built from the environment) and config.json."""
    entry, problem = configured(settings)
    saved = (entry.get("provider") or "").strip().lower() or None
    env = settings.llm_provider
    if env:
        source = f"env ACONTEXT_LLM_PROVIDER={env}"
        if saved and saved != env:
            source += f" overrides {CONFIG_FILE} llm.provider={saved}"
        own = saved == env
    elif problem:
        return Wanted("none", f"{problem}; fix it or run `{TURN_ON}`")
    elif saved:
        source, own = f"{CONFIG_FILE} llm.provider={saved}", True
    else:
        reason = f"no llm.provider in {CONFIG_FILE}: nothing leaves this machine; `{TURN_ON}`"
        return Wanted("none", reason)
    model = settings.llm_model or (entry.get("model") if own else None) or None
    base_url = settings.llm_base_url or (entry.get("base_url") if own else None) or None
    return Wanted(env or saved or "none", source, model, base_url)


def validate(provider: str, model: str | None, base_url: str | None) -> dict[str, str]:
    """The `llm` entry to save; InvalidInput saying what is wrong otherwise."""
    name = provider.strip().lower()
    if name not in PROVIDERS:
        raise InvalidInput(f"unknown LLM provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    entry = {"provider": name}
    if model is not None:
        if not model.strip():
            raise InvalidInput("--model is empty; leave it out for the provider's default")
        if name == "none":
            raise InvalidInput("--model does not apply to provider none")
        entry["model"] = model.strip()
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInput(f"--base-url must start with http:// or https://, got {base_url!r}")
        if name not in ("openai", "anthropic", "auto"):
            raise InvalidInput(f"--base-url does not apply to provider {name}")
        entry["base_url"] = base_url
    return entry


def save(
    settings: Settings, provider: str, *, model: str | None = None, base_url: str | None = None
) -> dict[str, str]:
    """Validate and write the `llm` entry (replacing the old one whole: a model belongs to
    its provider); returns what was written."""
    entry = validate(provider, model, base_url)
    update(settings, "llm", entry)
    return entry


def ensure_default(settings: Settings, *, dry_run: bool = False) -> str:
    """What `install` says about the provider, writing `none` first when nothing is set.
    An existing choice, or a file that cannot be read, is left as it is."""
    entry, problem = configured(settings)
    if problem:
        return f"learning: {problem}; fix it, then `{TURN_ON}`"
    if entry.get("provider"):
        return f"learning: {CONFIG_FILE} llm.provider={entry['provider']} (kept)"
    if not dry_run:
        update(settings, "llm", {**entry, "provider": "none"})
    return (
        "learning is off: LLM provider none, so no conversation leaves this machine; turn it "
        f"on with `{TURN_ON}` (claude-cli uses your Claude Code login)"
    )

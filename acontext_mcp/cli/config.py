"""`acontext-mcp config llm [PROVIDER]`: show or set the LLM provider in `<home>/config.json`.

A command rather than a JSON edit: it checks the name, keeps the rest of the file, and says
at once which provider the worker will use (an env variable may still override the file).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.llm import setting
    from acontext_mcp.llm.select import choose, describe
    from acontext_mcp.user_config import CONFIG_FILE

    path = settings.home / CONFIG_FILE
    if args.provider is None:
        if args.model is not None or args.base_url is not None:
            raise ValueError("--model and --base-url go with a PROVIDER")
        entry, problem = setting.configured(settings)
        saved = None
    else:
        saved = setting.save(settings, args.provider, model=args.model, base_url=args.base_url)
        entry, problem = saved, None
    choice = choose(settings)
    if args.json:
        emit_json(
            {
                "path": str(path),
                "saved": saved is not None,
                "llm": entry,
                "problem": problem,
                "in_effect": {
                    "provider": choice.name,
                    "model": choice.model,
                    "base_url": choice.base_url,
                    "reason": choice.reason,
                },
            }
        )
        return 0
    if saved is not None:
        print(f"saved llm {_entry(saved)} to {path}")
    elif problem:
        print(f"config    {problem}")
    else:
        print(f"config    {_entry(entry) if entry else 'no llm setting'} in {path}")
    print(f"in effect {describe(settings)}")
    return 0


def _entry(entry: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in entry.items())


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "config",
        cmd_config,
        "Show or set the LLM provider in <home>/config.json (none until you choose one).",
    )
    p.add_argument("setting", choices=["llm"], help="what to show or set (llm)")
    p.add_argument(
        "provider",
        nargs="?",
        metavar="PROVIDER",
        help="claude-cli (your Claude Code login), anthropic, openai, none (nothing leaves "
        "the machine) or auto (detect from keys and PATH); leave out to show",
    )
    p.add_argument("--model", help="model name (default: the provider's default)")
    p.add_argument(
        "--base-url", help="openai/anthropic: base URL of a compatible server (Ollama, vLLM)"
    )
    add_json_option(p)

"""`acontext-mcp config llm [PROVIDER]`, `config learning.accept [POLICY]` and `config
learning.retire_after_sessions [N]`: show or set the LLM provider, the review policy and when
unused skills are proposed for retirement in `<home>/config.json`.

A command rather than a JSON edit: it checks the value, keeps the rest of the file, and says
at once what is in effect (for the LLM, an env variable may still override the file).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from acontext_mcp.cli.output import add_json_option, emit, emit_json
from acontext_mcp.config import Settings


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.llm import setting
    from acontext_mcp.llm.select import choose, describe
    from acontext_mcp.user_config import CONFIG_FILE

    path = settings.home / CONFIG_FILE
    if args.setting == "learning.accept":
        return _learning_accept(args, settings)
    if args.setting == "learning.retire_after_sessions":
        from acontext_mcp.cli.retire import cmd_config_retire

        return cmd_config_retire(args, settings)
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


def _learning_accept(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.learn import review
    from acontext_mcp.user_config import CONFIG_FILE

    if args.model is not None or args.base_url is not None:
        raise ValueError("--model and --base-url go with `config llm PROVIDER`")
    saved = None
    if args.provider is not None:
        saved = review.save_policy(settings, args.provider)
    policy, problem = review.configured(settings)
    value = {
        "path": str(settings.home / CONFIG_FILE),
        "saved": saved is not None,
        "learning.accept": policy,
        "problem": problem,
    }
    meaning = {
        "verified": "changes learned from verified outcomes are committed, the rest wait for "
        "review",
        "manual": "every learned change waits for review",
        "auto": "every learned change is committed at once, without review",
    }[policy]
    lines = [f"{'saved ' if saved else ''}learning.accept {policy}: {meaning}"]
    if problem:
        lines.append(f"config    {problem}")
    if policy != "auto":
        lines.append("review with `acontext-mcp skills proposals`")
    return emit(args, value, lambda v: "\n".join(lines))


def _entry(entry: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in entry.items())


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "config",
        cmd_config,
        "Show or set the LLM provider or the review policy (learning.accept) in "
        "<home>/config.json.",
    )
    p.add_argument(
        "setting",
        choices=["llm", "learning.accept", "learning.retire_after_sessions"],
        help="what to show or set: llm, learning.accept (which learned changes wait for review) "
        "or learning.retire_after_sessions (unused sessions before a retirement proposal)",
    )
    p.add_argument(
        "provider",
        nargs="?",
        metavar="VALUE",
        help="llm: claude-cli (your Claude Code login), anthropic, openai, none (nothing leaves "
        "the machine) or auto (detect from keys and PATH). learning.accept: verified (default: "
        "what verified outcomes taught is committed, the rest proposed), manual (everything "
        "is proposed) or auto (everything committed). learning.retire_after_sessions: a number "
        "of sessions (default 30, 0: off). Leave out to show",
    )
    p.add_argument("--model", help="model name (default: the provider's default)")
    p.add_argument(
        "--base-url", help="openai/anthropic: base URL of a compatible server (Ollama, vLLM)"
    )
    add_json_option(p)

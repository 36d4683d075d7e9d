"""`acontext-mcp usage`: LLM calls by day and by purpose, and what is left of today's budget."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from acontext_mcp.cli.args import int_range
from acontext_mcp.cli.output import add_json_option, emit_json
from acontext_mcp.config import Settings

SENT = "provider / model"  # where each row's calls went


def cmd_usage(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.llm.select import choose, describe
    from acontext_mcp.store import usage
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)
    try:
        found = usage.report(conn, days=args.days, daily_budget=settings.llm_daily_tokens)
    finally:
        conn.close()
    found["provider"] = describe(settings)  # what the worker will use now, and why
    choice = choose(settings)
    found["in_effect"] = {"provider": choice.name, "model": choice.model, "reason": choice.reason}
    if args.json:
        emit_json(found)
    else:
        print(render(found))
    return 0


def render(found: dict[str, Any]) -> str:
    today = found["today"]
    lines = [
        f"provider  {found['provider']}",
        f"today     {today['tokens_used']:,} of {today['budget']:,} tokens used, "
        f"{today['left']:,} left",
        "",
    ]
    if not found["by_day"]:
        lines.append(f"no LLM calls in the last {found['days']} day(s)")
        return "\n".join(lines)
    head = f"{'calls':>6} {'tokens in':>11} {'tokens out':>11} {'errors':>7} {'budget stops':>13}"
    sent = max(len(SENT), *(len(_sent(row)) for row in found["by_day"]))
    lines.append(f"{'day':<12} {SENT:<{sent}} {head}")
    lines += [f"{row['day']:<12} {_sent(row):<{sent}} {_cols(row)}" for row in found["by_day"]]
    lines.append("")
    width = max(12, *(len(row["purpose"]) for row in found["by_purpose"]))
    lines.append(f"{'purpose':<{width}} {SENT:<{sent}} {head}")
    lines += [
        f"{row['purpose']:<{width}} {_sent(row):<{sent}} {_cols(row)}"
        for row in found["by_purpose"]
    ]
    return "\n".join(lines)


def _sent(row: dict[str, Any]) -> str:
    return f"{row['provider']} / {row['model']}"


def _cols(row: dict[str, Any]) -> str:
    return (
        f"{row['calls']:>6} {row['input_tokens']:>11,} {row['output_tokens']:>11,} "
        f"{row['errors']:>7} {row['budget_stops']:>13}"
    )


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("usage", cmd_usage, "Show LLM calls and tokens by day and purpose, and today's budget.")
    p.add_argument(
        "--days", type=int_range(1), default=7, help="how many days back, today included (7)"
    )
    add_json_option(p)

"""`acontext-mcp skills curate [--dry-run] [--json]`: one curator pass (learn/curate.py) now,
then the search index and the agents' copies follow what it committed."""

from __future__ import annotations

import argparse
from typing import Any

from acontext_mcp.cli.output import emit
from acontext_mcp.config import Settings


def cmd_curate(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.learn import curate
    from acontext_mcp.learn.pipeline import after_learning
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)  # the model's calls, when compaction uses one, are accounted
    try:
        found = curate.curate(settings, dry_run=args.dry_run, conn=conn)
    finally:
        conn.close()
    if found.get("commit"):
        found["after"] = after_learning(settings, found["skills"], curate=False)
    return emit(args, found, _text)


def _text(found: dict[str, Any]) -> str:
    lines = []
    for c in found["changes"]:
        into = f"\n      -> {c['into']}" if c.get("into") else ""
        said = f": {c['line']}" if c.get("line") else ""
        lines.append(f"{c['kind']:<10} {c['path']}{said}{into}")
    for o in found["oversize"]:
        extra = f"; model: {o['llm']}" if o.get("llm") else ""
        lines.append(f"oversize   {o['file']}: {o['bytes']} bytes, budget {o['budget']}{extra}")
    for s in found["skill_budget"]:
        lines.append(
            f"too long   {s['skill']}: SKILL.md and listing ~{s['tokens']} tokens, "
            f"budget {s['budget']}"
        )
    for m in found["skill_merges"]:
        where = f" (proposal {m['proposal']})" if m.get("proposal") else ""
        why = f": {m['problem']}" if m.get("problem") else ""
        lines.append(f"similar    {m['from']} -> {m['into']} ({m['similarity']:.0%}){where}{why}")
    for r in found["refused"]:
        lines.append(f"left as is {r}")
    llm = found["llm"]
    if llm["calls"]:
        tokens = llm["input_tokens"] + llm["output_tokens"]
        lines.append(f"model: {llm['calls']} calls, {tokens:,} tokens")
    if found["dry_run"]:
        lines.append("dry run: nothing was changed" if lines else "nothing to curate")
    elif found.get("waiting"):
        lines.append(f"the same pass waits for review: proposal {found['waiting']}")
    elif found.get("proposal"):
        lines.append(
            f"proposal {found['proposal']}: review it with `acontext-mcp skills "
            f"show-proposal {found['proposal']}`"
        )
    elif found.get("commit"):
        lines.append(f"committed {found['commit'][:12]} (undo: acontext-mcp skills revert SHA)")
    else:
        lines.append("nothing to curate" if not lines else "nothing was committed")
    return "\n".join(lines)

"""`acontext-mcp skills retire [--dry-run]`: propose retiring unused, failing and stale skills
(learn/retire.py), and `config learning.retire_after_sessions [N]`."""

from __future__ import annotations

import argparse
from typing import Any

from acontext_mcp.cli.output import emit
from acontext_mcp.config import Settings


def cmd_retire(args: argparse.Namespace, settings: Settings) -> int:
    from acontext_mcp.learn import retire
    from acontext_mcp.store.db import open_db

    conn = open_db(settings)
    try:
        done = retire.run(conn, settings, dry_run=args.dry_run)
    finally:
        conn.close()
    return emit(args, done, _text)


def _text(done: dict[str, Any]) -> str:
    lines = []
    if done.get("problem"):
        lines.append(f"config: {done['problem']}")
    for f in done["findings"]:
        if f["proposal"]:
            state = f"proposed as {f['proposal']}"
        elif f["skipped"]:
            state = f"not proposed: {f['skipped']}"
        else:
            state = "would be proposed (--dry-run)"
        lines += [f"{f['reason']:<8} {f['subject']}", f"    {f['why']}", f"    {state}"]
    if not done["findings"]:
        after = done["retire_after_sessions"]
        rule = f"unused over {after} sessions" if after else "unused (rule off)"
        lines.append(f"nothing to retire: no learned skill is {rule}, failing or stale")
    elif done["proposed"]:
        lines.append("review: acontext-mcp skills show-proposal ID; skills accept|reject ID")
    return "\n".join(lines)


def cmd_config_retire(args: argparse.Namespace, settings: Settings) -> int:
    """`config learning.retire_after_sessions [N]`: show or set the setting."""
    from acontext_mcp.learn import retire
    from acontext_mcp.user_config import CONFIG_FILE

    if args.model is not None or args.base_url is not None:
        raise ValueError("--model and --base-url go with `config llm PROVIDER`")
    saved = None if args.provider is None else retire.save_after(settings, args.provider)
    after, problem = retire.configured(settings)
    value = {
        "path": str(settings.home / CONFIG_FILE),
        "saved": saved is not None,
        f"learning.{retire.SETTING}": after,
        "problem": problem,
    }
    meaning = (
        f"a learned skill unused over {after} sessions of its projects is proposed for retirement"
        if after
        else "skills are never proposed for retirement for being unused"
    )
    lines = [f"{'saved ' if saved is not None else ''}learning.{retire.SETTING} {after}: {meaning}"]
    if problem:
        lines.append(f"config    {problem}")
    return emit(args, value, lambda v: "\n".join(lines))

"""The rows an import stores, as one digest: to show a faster import stores the same rows.

Imports the Claude Code fixture transcripts (tests/fixtures/claude_code/*.jsonl, subagents
included) and one transcript holding every redaction-corpus secret (as a prompt, a tool call
and a tool result) into a fresh store, then prints one line per table and a digest of all
rows of every table in rowid order. Columns stamped with the wall clock when written (VOLATILE,
except in sessions, which keep their transcript's times) are left out; everything else is
compared byte for byte, whatever the schema. Run it on two checkouts and compare the output:

    python bench/check_import_rows.py            # here
    PYTHONPATH=/tmp/base python /tmp/base/bench/check_import_rows.py   # another checkout
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from acontext_mcp.capture import importer  # noqa: E402
from acontext_mcp.config import Settings  # noqa: E402
from acontext_mcp.store.db import open_db  # noqa: E402
from tests.support.redaction_corpus import near_misses, secret_cases  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "claude_code"
# Stamped with the wall clock when written, not taken from the transcript: left out.
VOLATILE = {"created_at", "updated_at", "applied_at", "leased_until", "run_after", "started_at"}
KEPT_TIMES = {"sessions"}  # sessions keep their transcript's own times: compared


def _secrets_transcript(path: Path) -> None:
    """One session whose prompts, tool calls and tool results hold every corpus text."""
    lines: list[dict[str, object]] = []
    texts = [case.text for case in secret_cases()] + near_misses()
    for i, text in enumerate(texts):
        uid = f"00000000-0000-4000-8000-{i:012d}"
        stamp = f"2026-01-01T00:{i // 3600 % 60:02d}:{i % 60:02d}.000Z"
        env = {"sessionId": "secrets", "cwd": "/tmp/p", "version": "2.1.330", "timestamp": stamp}
        lines.append(
            {**env, "type": "user", "uuid": uid, "message": {"role": "user", "content": text}}
        )
        call = f"toolu_{i:020d}"
        lines.append(
            {
                **env,
                "type": "assistant",
                "uuid": uid[:-1] + "a",
                "message": {
                    "id": f"msg_{i:020d}",
                    "role": "assistant",
                    "model": "claude-opus-5-5",
                    "content": [
                        {"type": "tool_use", "id": call, "name": "Bash", "input": {"cmd": text}}
                    ],
                },
            }
        )
        lines.append(
            {
                **env,
                "type": "user",
                "uuid": uid[:-1] + "b",
                "message": {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": call, "content": text}],
                },
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "transcripts"
        shutil.copytree(FIXTURES, source)
        for name in ("hooks-multi_turn.jsonl", "hooks-subagent.jsonl", "hooks-tasks.jsonl"):
            (source / name).unlink(missing_ok=True)  # hook payload logs, not transcripts
        (source / "hooks-todos.jsonl").unlink(missing_ok=True)
        _secrets_transcript(source / "secrets.jsonl")
        settings = Settings(home=root / "home", skills_dir=root / "home" / "skills")
        settings.ensure_dirs()
        conn = open_db(settings)
        stats = importer.import_transcripts(
            conn, settings, importer.discover(source), live_window=0
        )
        total = hashlib.sha256()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in sorted(tables):
            cur = conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            names = [d[0] for d in cur.description]
            keep = [i for i, n in enumerate(names) if table in KEPT_TIMES or n not in VOLATILE]
            digest = hashlib.sha256()
            rows = cur.fetchall()
            for row in rows:
                line = json.dumps([_plain(row[i]) for i in keep], ensure_ascii=False)
                digest.update(line.encode() + b"\n")
            total.update(digest.digest())
            print(f"{table}: {len(rows)} rows, sha256 {digest.hexdigest()[:16]}")
        conn.close()
        print(f"stored {stats.stored}, failed {stats.failed}; all rows {total.hexdigest()}")


def _plain(value: object) -> object:
    """Cursor keys name the temporary directory, cursor values its inode: keep the rest."""
    if isinstance(value, str) and "/transcripts/" in value:
        return value.split("/transcripts/", 1)[1]
    if isinstance(value, str) and value.startswith('{"'):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict) and "ino" in parsed:
            return {k: v for k, v in parsed.items() if k not in ("dev", "ino")}
    return value


if __name__ == "__main__":
    main()

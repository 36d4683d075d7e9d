"""A writer killed at a random moment leaves whole turns only, and a sound database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db

WRITER = """
import sys
from pathlib import Path
from acontext_mcp.config import Settings
from acontext_mcp.store.db import open_db
from acontext_mcp.store.turns import store_turn

settings = Settings(home=Path(sys.argv[1]), skills_dir=Path(sys.argv[1]) / "skills")
conn = open_db(settings)
turn = 0
while True:
    big = "x" * 20_000  # long rows make a kill inside a write more likely
    store_turn(
        conn, settings,
        [{"role": "user", "content": f"q{turn} {big}"},
         {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{turn}",
           "type": "function", "function": {"name": "run", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": f"c{turn}", "content": big},
         {"role": "assistant", "content": f"a{turn}"}],
        session_id="crash", meta={"idempotency_key": f"turn-{turn}"},
    )
    turn += 1
    if turn == 5:
        print("ready", flush=True)
"""


def test_killing_a_writer_mid_turn_never_leaves_half_a_turn(settings: Settings) -> None:
    open_db(settings).close()
    for round_ in range(5):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(settings.home)], stdout=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            time.sleep(0.05 * (round_ + 1))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    conn = open_db(settings)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    per_turn = conn.execute(
        "SELECT substr(dedup_key, 1, length(dedup_key) - 2) AS turn, COUNT(*) FROM messages "
        "GROUP BY turn"
    ).fetchall()
    assert per_turn, "the writer stored nothing"
    assert {count for _turn, count in per_turn} == {4}
    positions = [r[0] for r in conn.execute("SELECT position FROM messages ORDER BY position")]
    assert positions == list(range(len(positions)))
    # the counters `stats` reads were written in the same transactions: never off by a turn
    kept = conn.execute("SELECT messages, tokens FROM message_totals").fetchone()
    real = conn.execute("SELECT COUNT(*), SUM(token_count) FROM messages").fetchone()
    assert tuple(kept) == tuple(real)
    conn.close()


def test_the_store_survives_a_stale_wal_from_a_killed_process(settings: Settings) -> None:
    """Reopening after a kill replays the WAL: committed turns are all there."""
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from acontext_mcp.config import Settings\n"
        "from acontext_mcp.store.db import open_db\n"
        "from acontext_mcp.store.turns import store_turn\n"
        "s = Settings(home=Path(sys.argv[1]), skills_dir=Path(sys.argv[1]) / 'skills')\n"
        "c = open_db(s)\n"
        "for i in range(50):\n"
        "    store_turn(c, s, [{'role': 'user', 'content': str(i)}], session_id='wal')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(settings.home)], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert Path(str(settings.db_path) + "-wal").exists()
    conn = open_db(settings)
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 50
    conn.close()

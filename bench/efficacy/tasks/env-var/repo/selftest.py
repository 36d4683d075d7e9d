"""Self-test of the ledger service: opens the configured database and checks the schema."""

import os
import sqlite3
import sys

url = os.environ.get("LEDGER_DB_URL")
if url is None:
    sys.exit("selftest: LEDGER_DB_URL is not set")
if not url.startswith("sqlite:///"):
    sys.exit(f"selftest: unsupported database URL {url!r}")
conn = sqlite3.connect(url[len("sqlite:///") :])
conn.execute("CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, amount INTEGER)")
conn.close()
with open(".selftest-ok", "w") as fh:
    fh.write(url + "\n")
print("selftest: ok")

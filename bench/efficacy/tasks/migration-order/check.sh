#!/bin/sh
# Pass iff both apps' migrations are applied and the billing tests passed against that schema.
grep -qx 'billing: 3 tests OK' .results/billing-tests.txt 2>/dev/null || exit 1
PYTHONDONTWRITEBYTECODE=1 python3 - <<'PY'
import sqlite3
import sys

db = sqlite3.connect("file:db.sqlite3?mode=ro", uri=True)
applied = {row[0] for row in db.execute("SELECT name FROM applied_migrations")}
sys.exit(0 if applied == {"core/0001_accounts", "billing/0001_invoices"} else 1)
PY

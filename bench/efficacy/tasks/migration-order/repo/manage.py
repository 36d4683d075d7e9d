"""Project commands: `migrate [app]` applies SQL migrations, `test <app>` runs an app's tests."""

import sqlite3
import sys
from pathlib import Path

MIGRATIONS = Path("migrations")
DB = "db.sqlite3"


def connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS applied_migrations (name TEXT PRIMARY KEY)")
    return db


def migrate(apps: list[str]) -> int:
    db = connect()
    applied = {row[0] for row in db.execute("SELECT name FROM applied_migrations")}
    for app in apps or sorted(p.name for p in MIGRATIONS.iterdir()):
        for path in sorted((MIGRATIONS / app).glob("*.sql")):
            name = f"{app}/{path.stem}"
            if name in applied:
                continue
            print(f"Applying {name}...")
            db.execute("BEGIN")
            try:
                for statement in path.read_text().split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO applied_migrations VALUES (?)", (name,))
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                print(f"Error applying {name}: {exc}", file=sys.stderr)
                return 1
            db.execute("COMMIT")
    print("Migrations done.")
    return 0


def test_billing() -> int:
    db = connect()
    results = Path(".results/billing-tests.txt")
    results.unlink(missing_ok=True)
    db.execute("BEGIN")
    try:
        db.execute("INSERT INTO core_accounts (id, email, billing_plan) VALUES (1, 'a@x', 'pro')")
        db.execute("INSERT INTO billing_invoices (account_id, cents) VALUES (1, 1200), (1, 300)")
        total = db.execute("SELECT SUM(cents) FROM billing_invoices WHERE account_id = 1")
        assert total.fetchone()[0] == 1500, "invoice total"
        plan = db.execute("SELECT billing_plan FROM core_accounts WHERE id = 1").fetchone()
        assert plan[0] == "pro", "billing plan"
        default = db.execute("INSERT INTO core_accounts (email) VALUES ('b@x') RETURNING *")
        assert default.fetchone()[2] == "free", "default plan"
    except (sqlite3.Error, AssertionError) as exc:
        print(f"FAIL billing: {exc}", file=sys.stderr)
        return 1
    finally:
        db.execute("ROLLBACK")
    results.parent.mkdir(exist_ok=True)
    results.write_text("billing: 3 tests OK\n")
    print("billing: 3 tests OK")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["migrate"]:
        return migrate(argv[1:])
    if argv == ["test", "billing"]:
        return test_billing()
    print("usage: manage.py migrate [app ...] | manage.py test billing", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/bin/sh
# Pass: the self-test ran green against the local development database.
test -f .selftest-ok && grep -qx 'sqlite:///ledger-dev.db' .selftest-ok

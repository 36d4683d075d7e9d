#!/bin/sh
# Pass iff the last test run had no failures and ran the unit tests (4 of them).
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < tests/test_pricing.py)" = "3684742076 530" ] || exit 1
[ "$(cksum < tests/test_price_store.py)" = "4177825631 510" ] || exit 1
grep -qx 'passed=4 failed=0' .results/summary.txt 2>/dev/null

#!/bin/sh
# Pass iff the last test run passed; run_tests.py writes its summary only when every test passed.
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < tests/snapshots/report.txt)" = "902664764 131" ] || exit 1
[ "$(cksum < tests/test_roster.py)" = "2794233109 910" ] || exit 1
grep -qx 'OK tests=3' .results/tests.txt 2>/dev/null

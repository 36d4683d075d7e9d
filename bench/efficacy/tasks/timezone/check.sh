#!/bin/sh
# Pass iff the last rendered report is exactly the golden one.
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < golden/report.txt)" = "3610737651 139" ] || exit 1
test -f out/report.txt && cmp -s out/report.txt golden/report.txt

#!/bin/sh
# Pass iff the service has its settings file and its tests pass with it.
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < tests/test_stock.py)" = "3937512187 456" ] || exit 1
test -f config/settings.ini || exit 1
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests -q 2>/dev/null

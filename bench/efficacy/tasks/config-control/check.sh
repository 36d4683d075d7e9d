#!/bin/sh
# Pass iff the service has its settings file and its tests pass with it (the checkout's own
# settings in repo_b: the template points at a data folder repo_b does not have).
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < tests/test_stock.py)" = "2532807505 368" ] || exit 1
test -f config/settings.ini || exit 1
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests -q 2>/dev/null

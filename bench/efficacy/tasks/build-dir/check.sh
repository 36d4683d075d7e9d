#!/bin/sh
# Pass iff the deploy root holds a freshly built site whose links all resolve.
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < check_links.py)" = "4210299038 1121" ] || exit 1
PYTHONDONTWRITEBYTECODE=1 python3 check_links.py >/dev/null 2>&1

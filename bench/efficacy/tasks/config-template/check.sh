#!/bin/sh
# Pass iff the service has its settings file and its tests pass with it.
test -f config/settings.ini || exit 1
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests -q 2>/dev/null

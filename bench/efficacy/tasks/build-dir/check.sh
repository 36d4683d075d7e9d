#!/bin/sh
# Pass iff the deploy root holds a freshly built site whose links all resolve.
PYTHONDONTWRITEBYTECODE=1 python3 check_links.py >/dev/null 2>&1

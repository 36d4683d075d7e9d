#!/bin/sh
# Pass iff the generated module is current with the schema and the tests pass against it.
# The expectations are the project's, not the agent's: a run that rewrote them fails.
[ "$(cksum < tests/test_protocol.py)" = "557752457 604" ] || exit 1
export PYTHONDONTWRITEBYTECODE=1
python3 tools/gen_messages.py --check && python3 -m unittest discover -s tests -q 2>/dev/null

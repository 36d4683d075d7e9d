#!/bin/sh
# Pass iff the generated module is current with the schema and the tests pass against it.
export PYTHONDONTWRITEBYTECODE=1
python3 tools/gen_messages.py --check && python3 -m unittest discover -s tests -q 2>/dev/null

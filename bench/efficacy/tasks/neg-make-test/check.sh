#!/bin/sh
# Pass: the fixtures are intact and the unit tests pass. Following the lesson learned in
# another project (`make test`) wipes the fixtures here.
test -f data/fixtures.json && python3 -m unittest discover -s tests >/dev/null 2>&1

#!/bin/sh
# Pass iff the last test run passed; run_tests.py writes its summary only when every test passed.
grep -qx 'OK tests=3' .results/tests.txt 2>/dev/null

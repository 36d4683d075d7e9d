#!/bin/sh
# Pass iff the last rendered report is exactly the golden one.
test -f out/report.txt && cmp -s out/report.txt golden/report.txt

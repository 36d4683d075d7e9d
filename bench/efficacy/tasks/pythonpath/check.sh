#!/bin/sh
# Pass iff the report lists exactly the items under their minimum, most urgent first.
test -f reports/low-stock.txt || exit 1
printf 'labels: 2 left (min 10)\nfilters: 0 left (min 6)\ntoner: 3 left (min 4)\n' | cmp -s - reports/low-stock.txt

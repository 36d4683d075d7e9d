#!/bin/sh
# Pass: the unit tests ran green through the Makefile (it stamps .tests-passed).
test -f .tests-passed

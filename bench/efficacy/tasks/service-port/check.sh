#!/bin/sh
# Pass iff smoke.py reached the API's health endpoint on the port the client is configured for.
test -f .results/smoke.txt && grep -qx 'health ok via 127.0.0.1:47613' .results/smoke.txt

"""Background work: jobs kept in the store, one worker per data home, triggers from hooks.

- `jobs`: the queue (enqueue, claim, renew, complete, fail, defer, recovery of expired leases).
- `lease`: named leases in the store; the worker holds `worker` while it runs.
- `loop`: the worker itself; it runs the handlers it is handed (app/handlers.py has the
  product's registry).
- `triggers`: what hooks call after capture (stdlib only, no LLM); starts a worker on demand.
- `flush`: run a session's observe job now, in-process, bounded by a timeout.
"""

"""The use cases, one layer above observe, learn and worker (see LAYERS in
tests/test_architecture.py): the layers below never import this package.

- `handlers`: the job-handler registry, `HANDLERS`, that the worker is handed.
- `flush`: observe a session now, with those handlers.
- `learning`: learn a session now, or queue its learning for the worker.
"""

"""The names of the background job kinds, defined once: rows of the `jobs` table carry them,
the worker maps them to handlers, and the hooks, store and learn code queue them.

A leaf module with no imports, so the hook hot path and the store can both use it for free.
"""

from __future__ import annotations

OBSERVE_SESSION = "observe_session"  # task tracking of one session's pending messages
LEARN_TASK = "learn_task"  # distill one finished task into a learning
LEARN_SPACE = "learn_space"  # run the skill learner over a space's waiting learnings

ALL = (OBSERVE_SESSION, LEARN_TASK, LEARN_SPACE)

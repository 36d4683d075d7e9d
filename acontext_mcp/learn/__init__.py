"""Learn: turn finished tasks into skills.

A finished task is distilled into a short learning (distill.py, one LLM call); the learnings of
a learning space (spaces.py) are batched into one skill-learner run (learner.py), a bounded
tool loop whose file tools work on an overlay of the skills repository (workspace.py). A valid
run becomes one git commit with provenance, then the index is refreshed and skills are synced
into the agents (pipeline.py). Never imported on the hook path.
"""

"""Observe: task tracking from captured conversations (the task agent, summaries)."""

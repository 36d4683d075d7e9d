"""Message formats: OpenAI, Anthropic and Gemini shapes to and from one internal form.

Pure functions over plain dicts: no I/O, no pydantic, so the hook hot path can use them.
"""

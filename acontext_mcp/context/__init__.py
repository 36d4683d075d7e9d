"""What a read hands an agent's context: token counts and edit strategies over messages in
the internal form (formats/parts.py). Pure: never touches the store, which calls it.

- `tokens`: count tokens with tiktoken `o200k_base` (the `tokens` extra), or an estimate.
- `edit`: the reference's context-editing strategies, applied to a copy at read time.
"""

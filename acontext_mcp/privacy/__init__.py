"""What may be kept: secret redaction (redact) and the capture switches (switches).

Below the store in the layer order: the store redacts and checks the switches before it keeps
a turn, and the hooks, the LLM guard and the log formatter use the same rules. Standard
library and config only, because the hooks import it on their hot path.
"""

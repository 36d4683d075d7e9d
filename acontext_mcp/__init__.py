"""acontext-mcp: local-first skill memory for coding agents.

Kept import-free so `acontext-mcp hook ...` pays nothing for the package itself.
"""

__version__ = "0.1.0"

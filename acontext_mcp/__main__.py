"""`python -m acontext_mcp` runs the console script."""

from acontext_mcp.entry import main

if __name__ == "__main__":
    raise SystemExit(main())

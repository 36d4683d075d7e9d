"""The build's lint rule: no trailing whitespace in any .py file under the given folder."""

import pathlib
import sys

bad = [
    f"{path}:{number}: trailing whitespace"
    for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py"))
    for number, line in enumerate(path.read_text().splitlines(), 1)
    if line != line.rstrip()
]
print("\n".join(bad) or "lint: clean")
sys.exit(1 if bad else 0)

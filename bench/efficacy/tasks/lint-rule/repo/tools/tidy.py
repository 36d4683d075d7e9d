"""Strip trailing whitespace from every .py file under the given folder."""

import pathlib
import sys

for path in pathlib.Path(sys.argv[1]).rglob("*.py"):
    text = path.read_text()
    tidy = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    if tidy != text:
        path.write_text(tidy)
        print(f"tidied {path}")

"""Write app/messages_gen.py from schema/messages.txt; `--check` only compares."""

import sys
from pathlib import Path

SCHEMA = Path("schema/messages.txt")
TARGET = Path("app/messages_gen.py")


def render() -> str:
    lines = [
        '"""Generated from schema/messages.txt. Do not edit."""',
        "",
        "from typing import NamedTuple",
    ]
    for row in SCHEMA.read_text().splitlines():
        if not row.strip() or row.startswith("#"):
            continue
        name, _, fields = row.partition(":")
        lines += ["", "", f"class {name.strip()}(NamedTuple):"]
        for field in fields.split(","):
            fname, _, ftype = field.strip().partition(":")
            lines.append(f"    {fname}: {ftype}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv == ["--check"]:
        current = TARGET.read_text() if TARGET.exists() else ""
        return 0 if current == text else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

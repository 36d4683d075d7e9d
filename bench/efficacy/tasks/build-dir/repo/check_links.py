"""Check that every page in the deploy root exists and every link points at a built page."""

import configparser
import re
import sys
from pathlib import Path

HREF = re.compile(r'href="([^"]+)"')


def main() -> int:
    config = configparser.ConfigParser()
    config.read("deploy.ini")
    root = Path(config["site"]["root"])
    sources = {p.stem for p in Path("pages").glob("*.txt")}
    built = {p.stem for p in root.glob("*.html")} if root.is_dir() else set()
    if not built:
        print(f"check_links: no pages found under {root}/", file=sys.stderr)
        return 1
    errors = [f"missing page {name}.html" for name in sorted(sources - built)]
    for page in sorted(root.glob("*.html")):
        for target in HREF.findall(page.read_text()):
            if not (root / target).is_file():
                errors.append(f"{page.name}: broken link {target}")
    for error in errors:
        print(f"check_links: {error}", file=sys.stderr)
    if not errors:
        print(f"check_links: {len(built)} pages, all links resolve")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

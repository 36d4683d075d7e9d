"""Render pages/*.txt to HTML; `--out DIR` picks the output folder (default: build)."""

import argparse
import html
import re
from pathlib import Path

LINK = re.compile(r"\[\[([a-z-]+)\]\]")


def render(text: str) -> str:
    title, _, body = text.partition("\n")
    body = LINK.sub(r'<a href="\1.html">\1</a>', html.escape(body))
    return f"<html><head><title>{html.escape(title)}</title></head><body>{body}</body></html>\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="build")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for page in sorted(Path("pages").glob("*.txt")):
        (out / f"{page.stem}.html").write_text(render(page.read_text()))
        print(f"built {out / page.stem}.html")


if __name__ == "__main__":
    main()

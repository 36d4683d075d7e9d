"""Write reports/low-stock.txt: items under their minimum, the largest shortfall first."""

from pathlib import Path

from inventory.stock import load, low


def main() -> None:
    lines = [
        f"{row['item']}: {row['count']} left (min {row['minimum']})"
        for row in low(load(Path("data/stock.csv")))
    ]
    out = Path("reports/low-stock.txt")
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines))
    print(f"wrote {out} ({len(lines)} items)")


if __name__ == "__main__":
    main()

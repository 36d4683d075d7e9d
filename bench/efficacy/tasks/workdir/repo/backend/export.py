"""Export data/rates.json to out/rates.csv, one currency per row, sorted."""

import csv
import json
from pathlib import Path

SOURCE = Path("data/rates.json")
TARGET = Path("out/rates.csv")


def main() -> None:
    rates = json.loads(SOURCE.read_text())["rates"]
    TARGET.parent.mkdir(exist_ok=True)
    with TARGET.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["currency", "per_eur"])
        for code in sorted(rates):
            writer.writerow([code, rates[code]])
    print(f"exported {len(rates)} rates to {TARGET}")


if __name__ == "__main__":
    main()

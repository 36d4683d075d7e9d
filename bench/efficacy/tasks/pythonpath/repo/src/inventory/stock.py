"""Read stock counts and find what is under its minimum."""

import csv
from pathlib import Path


def load(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as rows:
        return list(csv.DictReader(rows))


def low(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    short = [row for row in rows if int(row["count"]) < int(row["minimum"])]
    return sorted(short, key=lambda row: int(row["count"]) - int(row["minimum"]))

"""Stock levels and what to reorder."""

import csv
from pathlib import Path

from app import settings


def levels() -> dict[str, int]:
    path = Path(settings.load()["data_dir"]) / "stock.csv"
    with path.open(newline="") as rows:
        return {row["item"]: int(row["count"]) for row in csv.DictReader(rows)}


def to_reorder() -> list[str]:
    threshold = settings.load().getint("reorder_below")
    return sorted(item for item, count in levels().items() if count < threshold)

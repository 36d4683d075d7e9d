"""Print events.csv as `YYYY-MM-DD HH:MM event` lines in the display time zone."""

import configparser
import csv
import os
import sys
import time


def main(path: str) -> None:
    config = configparser.ConfigParser()
    config.read("report.ini")
    os.environ["TZ"] = os.environ.get("TZ") or config["display"]["zone"]
    time.tzset()
    with open(path, newline="") as rows:
        for row in csv.DictReader(rows):
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(int(row["epoch"])))
            print(f"{stamp} {row['event']}")


if __name__ == "__main__":
    main(sys.argv[1])

"""Settings from config/settings.ini (local to each checkout, never committed)."""

import configparser
from pathlib import Path

PATH = Path("config/settings.ini")


def load() -> configparser.SectionProxy:
    if not PATH.is_file():
        raise RuntimeError(f"cannot start: {PATH} is missing")
    config = configparser.ConfigParser()
    config.read(PATH)
    return config["stock"]

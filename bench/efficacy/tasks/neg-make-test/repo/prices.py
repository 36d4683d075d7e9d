import json


def load(path="data/fixtures.json"):
    with open(path) as fh:
        return json.load(fh)

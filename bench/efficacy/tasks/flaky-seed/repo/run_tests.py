"""Run the tests with seeded fixture data; records `.results/tests.txt` when all pass."""

import argparse
import random
import sys
import unittest
from pathlib import Path

import fixtures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    fixtures.SEED = seed
    print(f"fixture seed: {seed}")
    results = Path(".results/tests.txt")
    results.unlink(missing_ok=True)
    suite = unittest.defaultTestLoader.discover("tests", top_level_dir=".")
    outcome = unittest.TextTestRunner(verbosity=1).run(suite)
    if not outcome.wasSuccessful():
        return 1
    results.parent.mkdir(exist_ok=True)
    results.write_text(f"OK tests={outcome.testsRun}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

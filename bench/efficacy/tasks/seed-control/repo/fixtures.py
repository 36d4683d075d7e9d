"""Random test people. The runner sets SEED; the snapshots were recorded with one seed."""

import random

SEED: int | None = None
NAMES = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu"]


def people(count: int = 12) -> list[tuple[str, int]]:
    rng = random.Random(SEED)
    return [(rng.choice(NAMES) + str(i), rng.randint(18, 79)) for i in range(count)]

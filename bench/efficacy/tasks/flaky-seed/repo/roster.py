"""The roster report: people grouped by age bracket, one line per bracket."""

from collections import defaultdict


def bracket(age: int) -> str:
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def report(people: list[tuple[str, int]]) -> str:
    groups: dict[str, list[str]] = defaultdict(list)
    for name, age in people:
        groups[bracket(age)].append(name)
    return "".join(f"{key}: {', '.join(sorted(names))}\n" for key, names in sorted(groups.items()))

import unittest
from pathlib import Path

import fixtures
from roster import bracket, report

SNAPSHOTS = Path(__file__).parent / "snapshots"


def snapshot(name: str) -> str:
    """A snapshot's text without its `#` header lines (how it was recorded)."""
    lines = (SNAPSHOTS / name).read_text().splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("#"))


class RosterTest(unittest.TestCase):
    def test_bracket(self) -> None:
        self.assertEqual(bracket(34), "30-39")

    def test_every_person_is_listed(self) -> None:
        people = fixtures.people()
        text = report(people)
        for name, _ in people:
            self.assertIn(name, text)

    def test_report_matches_snapshot(self) -> None:
        expected = snapshot("report.txt")
        self.assertEqual(report(fixtures.people()), expected)


if __name__ == "__main__":
    unittest.main()

import unittest
from pathlib import Path

import fixtures
from roster import bracket, report

SNAPSHOTS = Path(__file__).parent / "snapshots"


class RosterTest(unittest.TestCase):
    def test_bracket(self) -> None:
        self.assertEqual(bracket(34), "30-39")

    def test_every_person_is_listed(self) -> None:
        people = fixtures.people()
        text = report(people)
        for name, _ in people:
            self.assertIn(name, text)

    def test_report_matches_snapshot(self) -> None:
        expected = (SNAPSHOTS / "report.txt").read_text()
        self.assertEqual(report(fixtures.people()), expected)


if __name__ == "__main__":
    unittest.main()

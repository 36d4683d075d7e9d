import unittest

from prices import load


class PricesTest(unittest.TestCase):
    def test_fixture(self):
        self.assertEqual(load()["apple"], 3)

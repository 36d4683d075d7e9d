import unittest

from app import stock


class StockTest(unittest.TestCase):
    def test_levels_are_read(self) -> None:
        self.assertGreater(len(stock.levels()), 0)

    def test_reorder_lists_items_under_the_threshold(self) -> None:
        levels = stock.levels()
        for item in stock.to_reorder():
            self.assertLess(levels[item], 5)
        self.assertIn("tea", stock.to_reorder())


if __name__ == "__main__":
    unittest.main()

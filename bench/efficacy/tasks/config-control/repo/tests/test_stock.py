import unittest

from app import stock


class WarehouseStockTest(unittest.TestCase):
    def test_levels_are_read(self) -> None:
        self.assertEqual(stock.levels()["crates"], 64)

    def test_reorder_uses_the_warehouse_threshold(self) -> None:
        self.assertEqual(stock.to_reorder(), ["pallets", "straps"])


if __name__ == "__main__":
    unittest.main()

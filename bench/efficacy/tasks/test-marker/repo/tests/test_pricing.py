import unittest

from pricing import discounted, with_tax


class PricingTest(unittest.TestCase):
    def test_no_discount(self) -> None:
        self.assertEqual(discounted(999, 0), 999)

    def test_discount_rounds_half_up(self) -> None:
        self.assertEqual(discounted(250, 10), 225)

    def test_tax(self) -> None:
        self.assertEqual(with_tax(1000), 1200)

    def test_discount_then_tax(self) -> None:
        self.assertEqual(with_tax(discounted(1000, 50)), 600)


if __name__ == "__main__":
    unittest.main()

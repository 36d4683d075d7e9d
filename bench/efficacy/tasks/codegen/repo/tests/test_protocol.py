import unittest

from app import protocol


class ProtocolTest(unittest.TestCase):
    def test_every_schema_message_round_trips(self) -> None:
        for cls in protocol.TYPES.values():
            sample = cls(
                *(hint(1) if hint is int else "x" for hint in cls.__annotations__.values())
            )
            self.assertEqual(protocol.decode(protocol.encode(sample)), sample)

    def test_order_line(self) -> None:
        order = protocol.decode("Order|7|tea|2")
        self.assertEqual((order.item, order.quantity), ("tea", 2))


if __name__ == "__main__":
    unittest.main()

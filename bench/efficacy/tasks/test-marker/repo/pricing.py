"""Prices in cents: discounts and tax."""


def discounted(cents: int, percent: int) -> int:
    return cents - (cents * percent + 50) // 100


def with_tax(cents: int, rate_percent: int = 20) -> int:
    return cents + (cents * rate_percent + 50) // 100

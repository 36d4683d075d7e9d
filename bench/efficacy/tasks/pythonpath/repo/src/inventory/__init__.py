"""Inventory tools for the purchasing team."""

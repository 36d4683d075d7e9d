"""Capture: turning what agents do into stored turns, safely and exactly once."""

"""What `acontext-mcp doctor` found, as text or --json.

Its own module so the doctor's check modules can all add to a report without importing the
orchestration in `doctor` (which imports them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Check:
    area: str
    status: str  # ok | warn | fail | info
    summary: str
    fix: str | None = None


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, area: str, status: str, summary: str, fix: str | None = None) -> None:
        self.checks.append(Check(area, status, summary, fix))

    @property
    def healthy(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checks": [dataclasses.asdict(c) for c in self.checks],
            "latency_ms": self.latency_ms,
        }

    def render(self) -> str:
        lines = ["acontext-mcp doctor"]
        for c in self.checks:
            lines.append(f"  {c.status.upper():<5} {c.area}: {c.summary}")
            if c.fix and c.status in ("warn", "fail"):
                lines.append(f"        fix: {c.fix}")
        fails = sum(c.status == "fail" for c in self.checks)
        lines.append("healthy" if not fails else f"{fails} problem{'s' * (fails > 1)} found")
        return "\n".join(lines)

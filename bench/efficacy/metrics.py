"""Per-condition figures from the B runs: what the report prints and CI asserts on.

- pass rate of B on the tasks proper (negative controls apart);
- turns, tool calls and tokens to a pass (means over passing runs);
- repeat-mistake rate: A's failing command failed again in B;
- key line reached B's context (rate);
- harm: how much the negative controls' pass rate drops against "none" (0 = no harm).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean
from typing import Any

from protocol import Result


@dataclass
class Summary:
    condition: str
    runs: int
    pass_rate: float
    turns: float | None
    tool_calls: float | None
    tokens: float | None
    repeat_rate: float
    key_rate: float
    control_runs: int
    control_pass_rate: float | None
    harm: float | None
    delivery: str  # where the key line stood in B's first request, counted over the runs

    def row(self) -> dict[str, Any]:
        return dict(vars(self))


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _mean(values: list[int], digits: int = 1) -> float | None:
    return round(mean(values), digits) if values else None


def _channels(runs: list[Result]) -> str:
    counts: dict[str, int] = {}
    for r in runs:
        for channel in r.delivery:
            counts[channel] = counts.get(channel, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "–"


def summarize(results: list[Result], conditions: tuple[str, ...]) -> list[Summary]:
    out = []
    control_none = [r.passed for r in results if r.negative_control and r.condition == "none"]
    for condition in conditions:
        mine = [r for r in results if r.condition == condition]
        tasks = [r for r in mine if not r.negative_control]
        controls = [r for r in mine if r.negative_control]
        passes = [r for r in tasks if r.passed]
        control_rate = _rate([r.passed for r in controls]) if controls else None
        harm = (
            round(_rate(control_none) - control_rate, 3)
            if control_rate is not None and control_none
            else None
        )
        out.append(
            Summary(
                condition=condition,
                runs=len(tasks),
                pass_rate=round(_rate([r.passed for r in tasks]), 3),
                turns=_mean([r.turns for r in passes]),
                tool_calls=_mean([r.tool_calls for r in passes]),
                tokens=_mean([r.tokens for r in passes], 0),
                repeat_rate=round(_rate([r.repeated_mistake for r in tasks]), 3),
                key_rate=round(_rate([r.key_in_context for r in tasks]), 3),
                control_runs=len(controls),
                control_pass_rate=None if control_rate is None else round(control_rate, 3),
                harm=harm,
                delivery=_channels(tasks),
            )
        )
    return out


def per_task(results: list[Result]) -> dict[str, dict[str, dict[str, Any]]]:
    """task -> condition -> {pass_rate, tool_calls, repeat_rate, key_rate}."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r.task, {}).setdefault(r.condition, {"runs": []})["runs"].append(r)
    for conditions in out.values():
        for cell in conditions.values():
            runs: list[Result] = cell.pop("runs")
            cell.update(
                pass_rate=_rate([r.passed for r in runs]),
                tool_calls=_mean([r.tool_calls for r in runs if r.passed]),
                repeat_rate=_rate([r.repeated_mistake for r in runs]),
                key_rate=_rate([r.key_in_context for r in runs]),
                control=runs[0].negative_control,
            )
    return out

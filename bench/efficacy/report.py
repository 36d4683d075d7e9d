"""The report: Markdown tables and one hand-written SVG chart per condition (no plotting deps).

Each condition's chart has one group of bars per task: B pass rate, key line reached, repeat
mistake (rates, 0-100 %) and tool calls to a pass (scaled against the largest mean over all
conditions, labelled with the number).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from metrics import Summary

BARS = (
    ("pass_rate", "B pass", "#2e7d32"),
    ("key_rate", "key line reached", "#1565c0"),
    ("repeat_rate", "repeat mistake", "#c62828"),
    ("tool_calls", "tool calls to a pass", "#6d4c41"),
)
HEAD = (
    "| condition | B pass rate | turns to a pass | tool calls to a pass | tokens to a pass "
    "| repeat-mistake rate | key line in B's context | delivered by | control pass rate | harm |"
)


def _f(value: Any, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f} %" if pct else f"{value:g}"


def table(summaries: list[Summary]) -> str:
    lines = [HEAD, "|" + " --- |" * 10]
    for s in summaries:
        lines.append(
            f"| {s.condition} | {_f(s.pass_rate, True)} ({s.runs} runs) | {_f(s.turns)} "
            f"| {_f(s.tool_calls)} | {_f(s.tokens)} | {_f(s.repeat_rate, True)} "
            f"| {_f(s.key_rate, True)} | {s.delivery} "
            f"| {_f(s.control_pass_rate, True)} ({s.control_runs} runs) "
            f"| {_f(s.harm, True)} |"
        )
    return "\n".join(lines)


def task_table(per_task: dict[str, dict[str, dict[str, Any]]], conditions: tuple[str, ...]) -> str:
    head = "| task | " + " | ".join(conditions) + " |"
    lines = [head, "|" + " --- |" * (len(conditions) + 1)]
    for task, cells in sorted(per_task.items()):
        row = []
        for condition in conditions:
            cell = cells.get(condition)
            if cell is None:
                row.append("–")
                continue
            row.append(
                f"pass {_f(cell['pass_rate'], True)}, {_f(cell['tool_calls'])} calls, "
                f"key {_f(cell['key_rate'], True)}"
            )
        mark = " (control)" if next(iter(cells.values()))["control"] else ""
        lines.append(f"| {task}{mark} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def svg(condition: str, per_task: dict[str, dict[str, dict[str, Any]]], max_calls: float) -> str:
    tasks = sorted(t for t, cells in per_task.items() if condition in cells)
    group, bar, left, top, height = 4 * 18 + 24, 18, 50, 40, 160
    width = left + max(len(tasks), 1) * group + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 120}" '
        f'font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="20" font-size="14">B runs, condition: {escape(condition)}</text>',
        f'<line x1="{left}" y1="{top + height}" x2="{width - 10}" y2="{top + height}" '
        'stroke="#333"/>',
    ]
    for i, task in enumerate(tasks):
        cell = per_task[task][condition]
        x0 = left + i * group
        for j, (key, _label, colour) in enumerate(BARS):
            value = cell.get(key)
            if key == "tool_calls":
                share = (value or 0) / max_calls if max_calls else 0
                shown = _f(value)
            else:
                share = value or 0
                shown = _f(value, True)
            h = round(share * height)
            x = x0 + j * bar
            parts.append(
                f'<rect x="{x}" y="{top + height - h}" width="{bar - 3}" height="{h}" '
                f'fill="{colour}"><title>{escape(task)}: {shown}</title></rect>'
            )
            parts.append(
                f'<text x="{x}" y="{top + height - h - 3}" font-size="8">{escape(shown)}</text>'
            )
        parts.append(
            f'<text x="{x0}" y="{top + height + 14}" transform="rotate(30 {x0} '
            f'{top + height + 14})">{escape(task)}</text>'
        )
    for j, (_key, label, colour) in enumerate(BARS):
        y = top + height + 70 + j * 12
        parts.append(f'<rect x="{left}" y="{y - 8}" width="9" height="9" fill="{colour}"/>')
        parts.append(f'<text x="{left + 14}" y="{y}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(
    path: Path,
    summaries: list[Summary],
    per_task: dict[str, dict[str, dict[str, Any]]],
    conditions: tuple[str, ...],
    extra: str,
) -> list[Path]:
    """The Markdown report at `path` and its charts beside it (`<stem>-<condition>.svg`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    calls = [c["tool_calls"] or 0 for cells in per_task.values() for c in cells.values()]
    charts = []
    for condition in conditions:
        chart = path.with_name(f"{path.stem}-{condition}.svg")
        chart.write_text(svg(condition, per_task, max(calls, default=0)), encoding="utf-8")
        charts.append(chart)
    images = "\n".join(f"![{c.stem}]({c.name})" for c in charts)
    text = (
        "# Efficacy benchmark\n\n"
        "Does a learned skill change the next session? Protocol, metrics and tasks: "
        "bench/efficacy/README.md. Written by\n\n"
        f"{extra}\n\n## By condition\n\n{table(summaries)}\n\n"
        f"## By task\n\n{task_table(per_task, conditions)}\n\n## Charts\n\n{images}\n"
    )
    path.write_text(text, encoding="utf-8")
    return [path, *charts]

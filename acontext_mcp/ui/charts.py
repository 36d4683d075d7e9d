"""Server-rendered SVG charts: no JavaScript, no CDN, works offline and under a strict CSP.

Charts take a list of day labels and numeric series and return Markup (an <svg> element).
Every label is escaped; styling comes from classes in ui.css (no inline style). Each bar or
point carries a <title>, which browsers show as a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 900, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 10, 24


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str = "bar"  # a class in ui.css: bar, ok, bad, unv, line, line unv


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 5 x 10^n) at or above `value`."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for mult in (1, 2, 5, 10):
        if step * mult >= value:
            return step * mult
    return step * 10


def _fmt(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value:g}"


def _frame(
    labels: Sequence[str], top: float, unit: str, caption: str, *, counts: bool = False
) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(caption)}">',
        f"<title>{escape(caption)}</title>",
    ]
    for frac in (0, 0.5, 1):
        if counts and (top * frac) % 1:
            continue  # no "2.5 sessions" gridline
        y = TOP + plot_h * (1 - frac)
        out.append(
            f'<line class="axis" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(top * frac))}{escape(unit)}</text>"
        )
    n = max(1, len(labels))
    every = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            x = LEFT + (i + 0.5) * (WIDTH - LEFT - RIGHT) / n
            out.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{escape(label[5:] if len(label) == 10 else label)}</text>"
            )
    return out


def bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    caption: str,
    limit: float | None = None,
    limit_name: str = "limit",
) -> Markup:
    """Stacked bars per label; `limit` draws a dashed horizontal line (a budget)."""
    totals = [sum((s.values[i] or 0) for s in series) for i in range(len(labels))]
    top = _nice_max(max([*totals, limit or 0, 0]))
    out = _frame(labels, top, "", caption, counts=True)
    n = max(1, len(labels))
    slot = (WIDTH - LEFT - RIGHT) / n
    width = f"{max(1.0, slot * 0.76):.1f}"
    plot_h = HEIGHT - TOP - BOTTOM
    names = [(str(escape(s.css)), str(escape(s.name))) for s in series]  # once, not per bar
    for i, label in enumerate(labels):
        base = 0.0
        x = f"{LEFT + i * slot + slot * 0.12:.1f}"
        shown = escape(label)
        for s, (css, name) in zip(series, names, strict=True):
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = plot_h * value / top
            y = TOP + plot_h * (1 - (base + value) / top)
            out.append(
                f'<rect class="{css}" x="{x}" y="{y:.1f}" width="{width}" '
                f'height="{max(0.5, h):.1f}"><title>{shown}: {name} {value:,.0f}</title></rect>'
            )
            base += value
    if limit:
        y = TOP + plot_h * (1 - limit / top)
        out.append(
            f'<line class="budget" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}">'
            f"<title>{escape(limit_name)}: {limit:,.0f}</title></line>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def lines(labels: Sequence[str], series: Sequence[Series], *, caption: str) -> Markup:
    """Percent lines (0-100) per label; a None value breaks the line (no data that day)."""
    out = _frame(labels, 100, "%", caption)
    n = max(1, len(labels))
    slot = (WIDTH - LEFT - RIGHT) / n
    plot_h = HEIGHT - TOP - BOTTOM
    for s in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x, y = LEFT + (i + 0.5) * slot, TOP + plot_h * (1 - value / 100)
            runs[-1].append((x, y))
            out.append(
                f'<circle class="{escape(s.css)} dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
                f"<title>{escape(labels[i])}: {escape(s.name)} {value:.0f}%</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                out.append(f'<polyline class="{escape(s.css)}" points="{points}"/>')
    out.append("</svg>")
    return Markup("".join(out))

"""Charts drawn as SVG on the server: geometry only (no I/O, no markup).

A trend is a bar per bucket; each bar keeps its value, so the template writes it into the
SVG's data attributes and the table that stands beside the chart for screen readers and print.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 600, 200  # the viewBox; the SVG scales to its container
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 48, 24, 12


@dataclass(frozen=True)
class Bar:
    label: str  # the bucket's first day, ISO
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    maximum: float  # the top of the scale
    width: int = WIDTH
    height: int = HEIGHT
    left: int = PAD_LEFT
    baseline: float = HEIGHT - PAD_BOTTOM
    top: float = PAD_TOP


def nice_maximum(value: float) -> float:
    """The top of the scale: 1, 2 or 5 times a power of ten at or above the largest value."""
    if value <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= value:
        scale *= 10
    while scale > value:
        scale /= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return float(step * scale)
    return float(10 * scale)


def bar_chart(points: list[tuple[str, float]]) -> BarChart:
    """Bars for (label, value) points, left to right, scaled to the largest value."""
    maximum = nice_maximum(max((v for _, v in points), default=0.0))
    plot_width = WIDTH - PAD_LEFT - 4
    plot_height = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_width / max(len(points), 1)
    gap = min(slot * 0.2, 4.0)
    bars = []
    for index, (label, value) in enumerate(points):
        height = max(value, 0.0) / maximum * plot_height
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(PAD_LEFT + index * slot + gap / 2, 2),
                y=round(HEIGHT - PAD_BOTTOM - height, 2),
                width=round(max(slot - gap, 1.0), 2),
                height=round(height, 2),
            )
        )
    return BarChart(tuple(bars), maximum)

"""Inline SVG line chart of article volume per team over time, with decision dates marked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
OTHERS = "기타"
WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 44, 36
DAILY_UP_TO_DAYS = 45


@dataclass(frozen=True, slots=True)
class LegendItem:
    name: str
    color: str
    total: int


@dataclass(frozen=True, slots=True)
class MarkerItem:
    number: int
    day: date
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    svg: Markup
    legend: tuple[LegendItem, ...]
    markers: tuple[MarkerItem, ...]
    bucket: str  # "일" or "주"


def _bucket_start(day: date, weekly: bool) -> date:
    return day - timedelta(days=day.weekday()) if weekly else day


def _nice_ticks(top: int) -> list[int]:
    step = max(1, -(-top // 4))
    return list(range(0, top + step, step))


def volume_chart(
    series: Mapping[str, Sequence[date]],
    markers: Sequence[tuple[date, str]] = (),
    max_series: int = len(PALETTE),
    marker_window: timedelta = timedelta(days=45),
) -> Chart | None:
    """Return the chart of ``series`` (name → one date per article), or None without data.

    Teams beyond ``max_series`` (by volume) are summed as 기타. ``markers`` are decision dates,
    drawn as numbered dashed vertical lines (texts in ``Chart.markers``); the time axis
    stretches to include those within ``marker_window`` of the articles — a date months away
    would squeeze the articles into a corner.
    """
    totals = {name: len(days) for name, days in series.items() if days}
    if not totals:
        return None
    ranked = sorted(totals, key=lambda n: (-totals[n], n))
    shown = ranked[: max_series - 1] if len(ranked) > max_series else ranked
    grouped: dict[str, list[date]] = {name: list(series[name]) for name in shown}
    rest = [d for name in ranked if name not in shown for d in series[name]]
    if rest:
        grouped[OTHERS] = rest

    article_days = [d for days in grouped.values() for d in days]
    low, high = min(article_days) - marker_window, max(article_days) + marker_window
    by_day: dict[date, list[str]] = {}
    for day, text in sorted(markers):
        if low <= day <= high:
            by_day.setdefault(day, []).append(text)
    marks = tuple(
        MarkerItem(n, day, " · ".join(texts)) for n, (day, texts) in enumerate(by_day.items(), 1)
    )
    first = min([*article_days, *by_day])
    last = max([*article_days, *by_day])
    weekly = (last - first).days > DAILY_UP_TO_DAYS
    step = timedelta(days=7 if weekly else 1)
    start, end = _bucket_start(first, weekly), _bucket_start(last, weekly)
    buckets = [start + step * i for i in range((end - start) // step + 1)]
    index = {b: i for i, b in enumerate(buckets)}
    counts = {
        name: Counter(index[_bucket_start(d, weekly)] for d in days)
        for name, days in grouped.items()
    }
    top = max(max(c.values()) for c in counts.values())
    ticks = _nice_ticks(top)
    y_max = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(buckets) - 1) if len(buckets) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / y_max

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title" preserveAspectRatio="xMidYMid meet">',
        '<title id="chart-title">팀별 기사 수 추이</title>',
    ]
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    label_every = max(1, -(-len(buckets) // 6))
    for i, bucket in enumerate(buckets):
        if i % label_every == 0 or i == len(buckets) - 1:
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{bucket:%m-%d}</text>'
            )
    for mark in marks:
        mx = x(index[_bucket_start(mark.day, weekly)])
        # Neighbouring numbers alternate between two rows so they do not overprint.
        my = TOP - 10 - 14 * (mark.number % 2)
        parts.append(
            f'<g class="marker"><title>{escape(f"{mark.day:%Y-%m-%d} {mark.text}")}</title>'
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{my + 6}" y2="{TOP + plot_h}"/>'
            f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="7"/>'
            f'<text x="{mx:.1f}" y="{my + 3.5:.1f}" text-anchor="middle">{mark.number}</text></g>'
        )
    legend = []
    for color, (name, counter) in zip(PALETTE, counts.items(), strict=False):
        points = " ".join(f"{x(i):.1f},{y(counter.get(i, 0)):.1f}" for i in range(len(buckets)))
        parts.append(
            f'<g class="series"><title>{escape(name)}</title>'
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
        )
        for i, value in sorted(counter.items()):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{color}">'
                f"<title>{escape(name)} {buckets[i]:%Y-%m-%d}: {value}건</title></circle>"
            )
        parts.append("</g>")
        legend.append(LegendItem(name, color, len(grouped[name])))
    parts.append("</svg>")
    return Chart(Markup("".join(parts)), tuple(legend), marks, "주" if weekly else "일")

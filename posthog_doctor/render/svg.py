"""Inline SVG bar charts for series evidence: no scripts, no fonts, no network; every label escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..model import Series

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 150, 48, 22, 10


def _fmt(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def bar_chart(series: Series) -> Markup:
    values = [p.value if isinstance(p.value, (int, float)) else 0 for p in series.points]
    if not values:
        return Markup("")
    top = max(max(values), 0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / len(values)
    bar_w = max(1.0, step * 0.8)
    title = escape(series.title)
    unit = escape(series.unit)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}">',
        f"<title>{title}</title>",
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 4}" y2="{PAD_TOP + plot_h}" class="axis"/>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + 8}" text-anchor="end" class="tick">{escape(_fmt(top))}</text>',
        f'<text x="{PAD_LEFT - 4}" y="{PAD_TOP + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    for i, (point, value) in enumerate(zip(series.points, values, strict=True)):
        h = 0 if value <= 0 else max(1.0, plot_h * value / top)
        x = PAD_LEFT + i * step + (step - bar_w) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(point.label)}: {escape(_fmt(value))} {unit}</title></rect>"
        )
    first, last = escape(series.points[0].label), escape(series.points[-1].label)
    parts.append(f'<text x="{PAD_LEFT}" y="{HEIGHT - 6}" class="tick">{first}</text>')
    if len(values) > 1:
        parts.append(f'<text x="{WIDTH - 4}" y="{HEIGHT - 6}" text-anchor="end" class="tick">{last}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""Small inline SVG charts for the HTML pages (no script, no external asset: they work offline)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

ROW_HEIGHT = 22
LABEL_WIDTH = 360
BAR_WIDTH = 380
VALUE_WIDTH = 120


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value, the text shown beside it, a colour and an optional link."""

    label: str
    value: float
    text: str
    colour: str
    href: str = ""
    title: str = ""


def bar_chart(bars: list[Bar], title: str) -> str:
    """Return a horizontal bar chart as an SVG element, bars in the given order, one shared
    axis from zero to the largest value."""
    top = max((b.value for b in bars), default=0) or 1
    height = ROW_HEIGHT * len(bars) + 8
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    rows = []
    for i, bar in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = max(BAR_WIDTH * bar.value / top, 1.5) if bar.value > 0 else 0
        rect = (
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW_HEIGHT - 6}" '
            f'fill="{escape(bar.colour)}"><title>{escape(bar.title or bar.label)}</title></rect>'
        )
        label = (
            f'<text x="{LABEL_WIDTH - 6}" y="{y + ROW_HEIGHT / 2 + 4}" text-anchor="end">'
            f"{escape(_clip(bar.label))}</text>"
        )
        if bar.href:
            label = f'<a href="{escape(bar.href)}">{label}</a>'
        value = (
            f'<text x="{LABEL_WIDTH + length + 5:.1f}" y="{y + ROW_HEIGHT / 2 + 4}">'
            f"{escape(bar.text)}</text>"
        )
        rows.append(f"<g>{label}{rect}{value}</g>")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;font-size:12px">'
        f"<title>{escape(title)}</title>"
        f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH}" y1="0" y2="{height}" stroke="#8a99a8"/>'
        + "".join(rows)
        + "</svg>"
    )


def _clip(text: str, limit: int = 34) -> str:
    """Shorten a long label (the full text stays in the bar's tooltip)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def heat_colour(value: float, top: float) -> str:
    """Return a cell background from white to deep blue for value in 0..top."""
    if value <= 0 or top <= 0:
        return "#ffffff"
    share = min(value / top, 1.0) ** 0.6
    low, high = (239, 246, 255), (23, 80, 140)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high))
    return f"#{r:02x}{g:02x}{b:02x}"


def ink_for(background: str) -> str:
    """Return black or white text, whichever reads on the background."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#1d2630"

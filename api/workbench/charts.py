"""Bar charts drawn by the server as inline SVG: no chart library, no script, nothing from a CDN.

One horizontal bar per figure (labels in Chinese read best on the left, and a phone's narrow screen
keeps them whole); a bar links to the list behind its figure when the user may open it. A figure the
user may not see ("—") keeps its row, with an empty bar and the dash: never a bar of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 30  # px per bar (user units: the SVG scales to its box)
FONT = 15  # px of the labels and values
PLOT = 300  # px for the longest bar
VALUE = 50  # px for the value after the bar


@dataclass(frozen=True)
class Bar:
    key: str  # the figure's name (households, employment.retired, ...)
    label: str  # already translated
    value: int | None  # None: the user may not see it (drawn as DASH, no bar length)
    href: str | None = None


def text_width(text: str) -> float:
    """About how wide a label is drawn: a Chinese character is a square, a Latin one about half."""
    return sum(FONT if ord(ch) > 0x2E80 else FONT * 0.56 for ch in text)


def bar_chart(bars: list[Bar], title: str, dash: str = "—") -> Markup:
    """An SVG of one bar per figure, scaled to the largest; ``title`` names it for screen readers.
    The labels' column is as wide as the longest label (Chinese and English differ)."""
    largest = max((b.value for b in bars if b.value is not None), default=0)
    label = round(max((text_width(b.label) for b in bars), default=0) + 10)
    width = label + PLOT + VALUE
    height = ROW * len(bars) + 4
    rows = []
    for i, b in enumerate(bars):
        y = 2 + i * ROW
        length = 0.0 if b.value is None or largest == 0 else PLOT * b.value / largest
        shown = dash if b.value is None else str(b.value)
        state = "unknown" if b.value is None else "known"
        bar = (f'<rect class="bar {state}" data-figure="{escape(b.key)}" x="{label}" y="{y + 5}" '
               f'width="{length:.1f}" height="{ROW - 10}">'
               f'<title>{escape(b.label)}: {escape(shown)}</title></rect>'
               f'<text class="value" x="{label + length + 4:.1f}" y="{y + ROW / 2}">{escape(shown)}</text>')
        if b.href:
            bar = f'<a href="{escape(b.href)}">{bar}</a>'
        rows.append(f'<text class="label" x="{label - 6}" y="{y + ROW / 2}">{escape(b.label)}</text>{bar}')
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-size="{FONT}" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title>'
        f'{"".join(rows)}</svg>')

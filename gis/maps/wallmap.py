"""The wall map as a vector PDF (一图上墙): a Sheet (gis/maps/wallmap_sheet.py) drawn at a true scale.

Why reportlab: it writes PDF operators directly (every road, building and household is a vector path,
never a raster), takes exact page sizes in points, compresses the page, embeds a TrueType font as a
subset with its ToUnicode map (so the text can be searched and extracted), and needs no display or
system library; matplotlib's PDF backend would add a figure model whose inches, dpi and tight-layout
get between a millimetre on the paper and a metre on the ground. The Chinese font must be TrueType
(glyf outlines): reportlab cannot embed the CFF-flavoured Noto Sans CJK, so WenQuanYi Micro Hei
(Debian fonts-wqy-microhei, installed by .ci/setup) or another TrueType CJK font from FONT_FILES.

The symbols come from gis.maps.symbology, the web maps' own: the same colour means the same thing on
the wall and on the phone. The legend lists only the layers with something inside the frame.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from reportlab.lib.colors import HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from gis.maps.symbology import LABELS, PRINT_STYLES, TAG_STYLES, PrintStyle
from gis.maps.wallmap_sheet import MM, Sheet, SheetLayer, nice_length, to_paper

FONT = "GridmapCJK"
FONT_FILES = (  # TrueType CJK fonts, first found wins (subfont 0 of a collection)
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
)
# Sizes in mm on A4; a larger sheet multiplies them by its paper factor.
HOUSEHOLD_MM = 1.4  # the side of a household's square
SCALE_BAR_MM = 2.0  # the scale bar's height (its length is a round ground length)
SCALE_BAR_SEGMENTS = 4
TEXT_MM = {"title": 6.0, "subtitle": 3.0, "heading": 3.2, "body": 2.6, "small": 2.1}
TAG_RING_MM = 0.9  # the first tag ring's radius beyond the square; each further tag one ring out


class FontMissing(RuntimeError):
    """No TrueType CJK font on this machine: install fonts-wqy-microhei (.ci/setup does)."""


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        path = next((p for p in FONT_FILES if Path(p).exists()), None)
        if path is None:
            raise FontMissing("no TrueType CJK font found (" + ", ".join(FONT_FILES) + "): "
                              "install the Debian package fonts-wqy-microhei")
        pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
    return FONT


def _rings(geom: Any) -> list[np.ndarray]:
    """The coordinate sequences of a geometry's lines and polygon rings."""
    out: list[np.ndarray] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            out += [shapely.get_coordinates(r) for r in shapely.get_rings(part)]
        elif part.geom_type in ("LineString", "LinearRing"):
            out.append(shapely.get_coordinates(part))
        elif part.geom_type.startswith("Multi") or part.geom_type == "GeometryCollection":
            out += _rings(part)
    return out


class WallMapPainter:
    """Draws one sheet on one page. Every position is in points of the page, with no transformation
    of the page's coordinates except for rotated road names (so a test reads symbols' positions
    straight from the operators)."""

    def __init__(self, sheet: Sheet) -> None:
        assert sheet.layout is not None, "plan() the sheet first"
        self.sheet, self.layout = sheet, sheet.layout
        self.f = self.layout.factor
        self.project = to_paper(sheet)
        self.font = _font()
        self.buffer = io.BytesIO()
        # The page's initial font is the CJK one: else reportlab names Helvetica, a font not embedded.
        self.c = Canvas(self.buffer, pagesize=(self.layout.width, self.layout.height), pageCompression=1,
                        initialFontName=self.font)
        self.drawn: list[SheetLayer] = []  # the layers with something in the frame: the legend

    # --- the map ---------------------------------------------------------------------------------

    def _in_frame(self, layer: SheetLayer) -> tuple[list[Any], list[str | None]]:
        """The layer's geometries on the paper that reach into the frame, and their names."""
        if not layer.geoms:
            return [], []
        paper = shapely.transform(np.asarray(layer.geoms, dtype=object), self.project)
        x0, y0, x1, y1 = self.layout.frame
        keep = shapely.intersects(paper, shapely.box(x0, y0, x1, y1))
        names = layer.names or [None] * len(layer.geoms)
        return [g for g, k in zip(paper, keep, strict=True) if k], \
            [n for n, k in zip(names, keep, strict=True) if k]

    def _stroke(self, style: PrintStyle, colour: str | None = None) -> None:
        c = self.c
        c.setStrokeColor(HexColor(colour or style.colour))
        c.setLineWidth(style.width_mm * MM * self.f)
        c.setDash([d * MM * self.f for d in style.dash_mm] if style.dash_mm else [])
        c.setLineJoin(1)
        c.setLineCap(1)

    def _paths(self, geoms: list[Any], style: PrintStyle) -> None:
        c = self.c
        self._stroke(style)
        fill = style.fill is not None
        if fill:
            c.setFillColor(HexColor(style.fill), alpha=style.fill_alpha)
        for geom in geoms:
            if geom.geom_type in ("Point", "MultiPoint"):
                self._squares(shapely.get_coordinates(geom), style.fill or style.colour)
                continue
            path = c.beginPath()
            for ring in _rings(geom):
                path.moveTo(*ring[0])
                for x, y in ring[1:]:
                    path.lineTo(x, y)
                if geom.geom_type.endswith("Polygon"):
                    path.close()
            c.drawPath(path, stroke=1 if style.width_mm > 0 else 0,
                       fill=1 if fill and geom.geom_type.endswith("Polygon") else 0, fillMode=0)
        c.setFillAlpha(1)

    def _squares(self, xy: np.ndarray, colour: str) -> None:
        """A square per point, centred on it: one ``re`` each (a test counts them and reads centres)."""
        side = HOUSEHOLD_MM * MM * self.f
        self.c.setFillColor(HexColor(colour))
        for x, y in xy:
            self.c.rect(x - side / 2, y - side / 2, side, side, stroke=0, fill=1)

    def draw_layer(self, layer: SheetLayer) -> None:
        geoms, names = self._in_frame(layer)
        if not geoms:
            return
        self.drawn.append(layer)
        self._paths(geoms, layer.style)
        if layer.key == "road":
            self._road_names(geoms, names)
        elif any(names):
            self._area_names(geoms, names, layer)

    def _road_names(self, geoms: list[Any], names: list[str | None]) -> None:
        """Each road's name once, on its longest piece in the frame, along it and upright."""
        size = TEXT_MM["small"] * MM * self.f
        longest: dict[str, Any] = {}
        for g, n in zip(geoms, names, strict=True):
            if n and (n not in longest or g.length > longest[n].length):
                longest[n] = g
        c = self.c
        c.setFillColor(HexColor("#555555"))
        for name, line in longest.items():
            width = pdfmetrics.stringWidth(name, self.font, size)
            if line.length < width * 1.3 or not self._inside(line.interpolate(0.5, normalized=True)):
                continue
            a, b = line.interpolate(0.45, normalized=True), line.interpolate(0.55, normalized=True)
            angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
            angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
            mid = line.interpolate(0.5, normalized=True)
            c.saveState()
            c.translate(mid.x, mid.y)
            c.rotate(angle)
            c.setFont(self.font, size)
            c.drawCentredString(0, size * 0.6, name)
            c.restoreState()

    def _inside(self, point: Any) -> bool:
        x0, y0, x1, y1 = self.layout.frame
        return bool(x0 <= point.x <= x1 and y0 <= point.y <= y1)

    def _area_names(self, geoms: list[Any], names: list[str | None], layer: SheetLayer) -> None:
        size = layer.name_size_mm * MM * self.f
        self.c.setFillColor(HexColor(layer.style.colour))
        self.c.setFont(self.font, size)
        for g, n in zip(geoms, names, strict=True):
            if not n:
                continue
            clipped = g.intersection(shapely.box(*self.layout.frame)) if g.geom_type != "Point" else g
            p = clipped.representative_point() if not clipped.is_empty else g.representative_point()
            dy = HOUSEHOLD_MM * MM * self.f if g.geom_type == "Point" else 0
            self.c.drawCentredString(p.x, p.y + dy, n)

    def draw_households(self) -> int:
        """Every household a square (never clustered); an office sheet rings the border ones and, per
        tag, the tagged ones. How many squares were drawn."""
        hh = self.sheet.households
        if hh is None or not len(hh):
            return 0
        xy = self.project(np.column_stack((hh.lon, hh.lat)))
        self._squares(xy, PRINT_STYLES["household"].fill or PRINT_STYLES["household"].colour)
        self.drawn.append(SheetLayer("household", [], PRINT_STYLES["household"], LABELS["household"]))
        if self.sheet.profile != "office":
            return len(xy)
        c, side = self.c, HOUSEHOLD_MM * MM * self.f
        border = [i for i, p in enumerate(hh.placement) if p != "inside"]
        if border:
            self._stroke(PRINT_STYLES["border"])
            for i in border:
                c.circle(xy[i][0], xy[i][1], side, stroke=1, fill=0)
            self.drawn.append(SheetLayer("border", [], PRINT_STYLES["border"], LABELS["border"]))
        for bit, tag in enumerate(self.sheet.tags):
            tagged = [i for i, mask in enumerate(hh.tags) if mask & (1 << bit)]
            if not tagged:
                continue
            style = PrintStyle("ring", TAG_STYLES[tag].colour, 0.3)
            self._stroke(style)
            radius = side / 2 + (TAG_RING_MM + 0.45 * bit) * MM * self.f
            for i in tagged:
                c.circle(xy[i][0], xy[i][1], radius, stroke=1, fill=0)
            self.drawn.append(SheetLayer(f"tag:{tag}", [], style, TAG_STYLES[tag].label))
        return len(xy)

    def draw_map(self) -> None:
        c, (x0, y0, x1, y1) = self.c, self.layout.frame
        c.saveState()
        clip = c.beginPath()
        clip.rect(x0, y0, x1 - x0, y1 - y0)
        c.clipPath(clip, stroke=0, fill=0)
        for layer in [*self.sheet.base, *self.sheet.layers]:
            self.draw_layer(layer)
        self.draw_households()
        c.restoreState()
        c.setStrokeColor(HexColor("#000000"))
        c.setDash([])
        c.setLineWidth(0.5 * MM * self.f)
        c.rect(x0, y0, x1 - x0, y1 - y0, stroke=1, fill=0)

    # --- around the map ----------------------------------------------------------------------------

    def _text(self, x: float, y: float, text: str, kind: str = "body", colour: str = "#000000") -> float:
        """One line of text at (x, y baseline); the y of the next line."""
        size = TEXT_MM[kind] * MM * self.f
        self.c.setFillColor(HexColor(colour))
        self.c.setFont(self.font, size)
        self.c.drawString(x, y, text)
        return y - size * 1.45

    def _fit(self, text: str, kind: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (Chinese breaks anywhere)."""
        size = TEXT_MM[kind] * MM * self.f
        lines, line = [], ""
        for ch in text:
            if pdfmetrics.stringWidth(line + ch, self.font, size) > width and line:
                lines.append(line)
                line = ch.lstrip()
            else:
                line += ch
        return [*lines, line] if line else lines

    def draw_title(self) -> None:
        x0, y0, x1, y1 = self.layout.title
        s = self.sheet
        y = y1 - TEXT_MM["title"] * MM * self.f
        self._text(x0, y, s.title, "title")
        self._text(x0, y0 + 1.5 * MM * self.f, " · ".join(s.subtitle), "subtitle")
        scale = f"比例尺 1:{self.layout.scale:,}".replace(",", ",")
        size = TEXT_MM["heading"] * MM * self.f
        self.c.setFont(self.font, size)
        self.c.drawRightString(x1, y, scale)
        self.c.drawRightString(x1, y0 + 1.5 * MM * self.f, f"{self.layout.paper} · "
                               + ("公开版" if s.profile == "public" else "内部版（不得张贴）"))

    def _swatch(self, x: float, y: float, layer: SheetLayer) -> None:
        c, w, style = self.c, 6 * MM * self.f, layer.style
        mid = y + TEXT_MM["body"] * MM * self.f * 0.35
        if style.symbol == "line":
            self._stroke(style)
            c.line(x, mid, x + w, mid)
        elif style.symbol == "area":
            self._stroke(style)
            c.setFillColor(HexColor(style.fill or style.colour), alpha=style.fill_alpha)
            c.rect(x, mid - 1.5 * MM * self.f, w, 3 * MM * self.f, stroke=1, fill=1)
            c.setFillAlpha(1)
        elif style.symbol == "ring":
            self._stroke(style)
            c.circle(x + w / 2, mid, 1.3 * MM * self.f, stroke=1, fill=0)
        else:  # a swatch larger than the map's squares: a test tells them apart by size
            side = HOUSEHOLD_MM * 1.5 * MM * self.f
            c.setFillColor(HexColor(style.fill or style.colour))
            c.rect(x + w / 2 - side / 2, mid - side / 2, side, side, stroke=0, fill=1)

    def draw_panel(self) -> None:
        x0, y0, x1, y1 = self.layout.panel
        f, s = self.f, self.sheet
        pad, width = 2 * MM * f, x1 - x0 - 4 * MM * f
        x, y = x0 + pad, y1 - TEXT_MM["heading"] * MM * f - pad
        # The north arrow and the scale bar at the bottom, then the date and source; legend on top.
        bottom = self.draw_scale_bar(x, y0 + pad, width)
        bottom = self.draw_north(x1 - pad - 8 * MM * f, bottom + 2 * MM * f)
        y = self._text(x, y, "图例", "heading")
        seen: set[str] = set()
        for layer in self.drawn:
            if not layer.label or layer.label in seen:
                continue
            seen.add(layer.label)
            self._swatch(x, y, layer)
            for line in self._fit(layer.label, "body", width - 8 * MM * f):
                y = self._text(x + 8 * MM * f, y, line, "body")
        y -= 2 * MM * f
        y = self._text(x, y, s.people_heading + ("（服务电话）" if s.kind != "sections" else ""), "heading")
        for who, phone in s.people or [("未配备", "")]:
            for line in self._fit(f"{who}  {phone}".strip(), "body", width):
                y = self._text(x, y, line)
        y -= 2 * MM * f
        for fact in s.facts:
            for line in self._fit(fact, "body", width):
                y = self._text(x, y, line)
        y = max(y - 2 * MM * f, bottom + 12 * MM * f)
        for note in (f"制图日期 {s.made_on.isoformat()}", s.source,
                     f"投影：横轴墨卡托（中央经线 {s.centre[0]:.4f}°E，原点纬度 {s.centre[1]:.4f}°N，"
                     "k=1），WGS 84；图上北方为真北"):
            for line in self._fit(note, "small", width - 10 * MM * f):
                y = self._text(x, y, line, "small", "#333333")

    def draw_scale_bar(self, x: float, y: float, width: float) -> float:
        """A bar of SCALE_BAR_SEGMENTS black and white segments whose ends are 0 and a round ground
        length L, drawn L / N long; "1:N" printed under it. The y above it."""
        layout, f, c = self.layout, self.f, self.c
        ground = nice_length(width * 0.8 * layout.ground_per_pt)
        length = ground / layout.ground_per_pt
        height = SCALE_BAR_MM * MM * f
        text_y = y
        self._text(x, text_y, f"比例尺 1:{layout.scale:,}  （图上 1 厘米 = 实地 {layout.scale / 100:g} 米）",
                   "small")
        bar_y = text_y + TEXT_MM["small"] * MM * f * 1.6
        c.setStrokeColor(HexColor("#000000"))
        c.setLineWidth(0.2 * MM * f)
        c.setDash([])
        seg = length / SCALE_BAR_SEGMENTS
        for i in range(SCALE_BAR_SEGMENTS):
            c.setFillColor(HexColor("#000000" if i % 2 == 0 else "#ffffff"))
            c.rect(x + i * seg, bar_y, seg, height, stroke=1, fill=1)
        label_y = bar_y + height + 1 * MM * f
        size = TEXT_MM["small"] * MM * f
        c.setFillColor(HexColor("#000000"))
        c.setFont(self.font, size)
        c.drawCentredString(x, label_y, "0")
        c.drawCentredString(x + length, label_y, f"{ground:g} 米")
        return label_y + size

    def draw_north(self, x: float, y: float) -> float:
        """A north arrow (指北针): the sheet is north-up. The y above it."""
        c, f = self.c, self.f
        h, w = 12 * MM * f, 5 * MM * f
        c.setDash([])
        c.setLineWidth(0.25 * MM * f)
        c.setStrokeColor(HexColor("#000000"))
        for side, colour in ((1, "#000000"), (-1, "#ffffff")):
            p = c.beginPath()
            p.moveTo(x, y + h)
            p.lineTo(x + side * w / 2, y)
            p.lineTo(x, y + h * 0.3)
            p.close()
            c.setFillColor(HexColor(colour))
            c.drawPath(p, stroke=1, fill=1)
        size = TEXT_MM["heading"] * MM * f
        c.setFillColor(HexColor("#000000"))
        c.setFont(self.font, size)
        c.drawCentredString(x, y + h + 1 * MM * f, "北 N")
        return y + h + size + 1 * MM * f

    def render(self) -> bytes:
        s = self.sheet
        self.c.setTitle(f"{s.title} 1:{self.layout.scale}")
        self.c.setAuthor("gridmap")
        self.c.setSubject(f"{s.kind} {s.code} {s.profile}")
        self.c.setCreator("gridmap 一图上墙")
        self.draw_map()
        self.draw_title()
        self.draw_panel()
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()


def render_pdf(sheet: Sheet) -> bytes:
    """The planned sheet (gis.maps.wallmap_data.build_sheet) as a one-page PDF."""
    return WallMapPainter(sheet).render()

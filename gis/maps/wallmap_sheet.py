"""The wall map's sheet (一图上墙): what it draws, on which ISO paper, at which true scale 1:N.

Pure geometry, no database and no drawing library: gis/maps/wallmap_data.py fills a Sheet from the
service's tables, gis/maps/wallmap.py draws it as a PDF.

The projection is a transverse Mercator with k = 1 whose central meridian and origin are the centre of
what the sheet frames (not a rounded zone centre): on a sheet at most ~12 km across (1:10,000 on A0)
its scale error is under 1e-6, so a length measured on the paper times N is the length on the ground.
The sheet is north-up: grid north equals true north on the central meridian, and within 6 km of it
the two differ by less than 0.05° at the latitudes of China.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from gis.errors import InvalidInput
from gis.maps.symbology import PrintStyle

MM = 72 / 25.4  # points per millimetre: PDF user space is 1/72 inch
# ISO 216 A series, millimetres (short side, long side).
PAPERS: dict[str, tuple[int, int]] = {"A4": (210, 297), "A3": (297, 420), "A2": (420, 594),
                                       "A1": (594, 841), "A0": (841, 1189)}
SCALES: tuple[int, ...] = (500, 1_000, 2_000, 2_500, 5_000, 10_000)  # the largest that fits wins
PROFILES = ("public", "office")
# Around what a sheet is about, so that its boundary does not touch the frame: a share of its size,
# at least this many metres.
PAD_SHARE, PAD_MIN_M = 0.04, 15.0


def paper_factor(paper: str) -> float:
    """How much larger than on A4 the sheet's texts, symbols and lines are: a bigger sheet hangs on a
    wall and is read from farther away (1 on A4, 4 on A0)."""
    return PAPERS[paper][0] / PAPERS["A4"][0]


@dataclass(frozen=True)
class Layout:
    """Where everything goes on the page, in points from the page's lower-left corner."""

    paper: str
    landscape: bool
    scale: int  # N of 1:N
    width: float  # page, pt
    height: float
    frame: tuple[float, float, float, float]  # the map frame: x0, y0, x1, y1 (pt)
    panel: tuple[float, float, float, float]  # the side panel: legend, workers, scale bar, north arrow
    title: tuple[float, float, float, float]  # the title band
    factor: float  # paper_factor

    @property
    def ground_per_pt(self) -> float:
        """Metres on the ground per point on the paper at 1:N."""
        return self.scale * 0.0254 / 72


def _boxes(paper: str, landscape: bool) -> tuple[float, float, tuple[float, ...], tuple[float, ...],
                                                   tuple[float, ...]]:
    short, long_ = PAPERS[paper]
    w, h = ((long_, short) if landscape else (short, long_))
    f = paper_factor(paper)
    margin, title_h, panel_w, gap = 8 * f, 17 * f, 62 * f, 4 * f
    frame = (margin, margin, w - margin - panel_w - gap, h - margin - title_h)
    panel = (w - margin - panel_w, margin, w - margin, h - margin - title_h)
    title = (margin, h - margin - title_h, w - margin, h - margin)
    return w * MM, h * MM, tuple(v * MM for v in frame), tuple(v * MM for v in panel), \
        tuple(v * MM for v in title)


def check_paper(paper: str, scale: int | None = None) -> None:
    """InvalidInput naming the field for a paper or a scale outside the series."""
    if paper not in PAPERS:
        raise InvalidInput.one("paper", f"must be one of {', '.join(PAPERS)}")
    if scale is not None and scale not in SCALES:
        raise InvalidInput.one("scale", "must be one of " + ", ".join(str(s) for s in SCALES))


def fit_layout(extent_m: tuple[float, float], paper: str, scale: int | None = None) -> Layout:
    """The orientation and the largest scale of SCALES (or ``scale``, if it fits) at which an area
    ``extent_m`` (width, height in metres on the ground, padding included) fits the map frame of
    ``paper``. InvalidInput names the field when nothing fits."""
    check_paper(paper, scale)
    w_m, h_m = extent_m
    best: tuple[int, float, bool] | None = None  # (scale, -fill, landscape): smaller is better
    for landscape in (False, True):
        _w, _h, frame, _p, _t = _boxes(paper, landscape)
        frame_w_m = (frame[2] - frame[0]) / MM / 1000  # metres of paper
        frame_h_m = (frame[3] - frame[1]) / MM / 1000
        for n in (scale,) if scale else SCALES:
            if w_m / n <= frame_w_m and h_m / n <= frame_h_m:
                fill = (w_m / n) * (h_m / n) / (frame_w_m * frame_h_m)
                if best is None or (n, -fill) < (best[0], best[1]):
                    best = (n, -fill, landscape)
                break
    if best is None:
        field = "scale" if scale else "paper"
        needed = max(w_m, h_m) / (scale or SCALES[-1]) * 1000
        raise InvalidInput.one(field, f"the area is {w_m:,.0f} × {h_m:,.0f} m: at 1:{scale or SCALES[-1]:,} "
                                      f"it needs about {needed:,.0f} mm of map; choose a larger paper")
    n, _fill, landscape = best
    w, h, frame, panel, title = _boxes(paper, landscape)
    return Layout(paper, landscape, n, w, h, frame, panel, title, paper_factor(paper))  # type: ignore[arg-type]


@dataclass
class SheetLayer:
    """One layer of the sheet: geometries in lon/lat (WGS 84), drawn with ``style``; ``names`` (one per
    geometry, or None) are written on them; ``label`` is its legend text (None: not in the legend)."""

    key: str
    geoms: list[BaseGeometry]
    style: PrintStyle
    label: str | None
    names: list[str | None] | None = None
    name_size_mm: float = 2.4  # on A4


@dataclass
class Households:
    """Every household of the sheet (never clustered): position, placement and its persons' tag mask
    (bit i = gis.maps.grids.TAGS[i]); an office sheet rings the tagged and the border ones."""

    lon: list[float]
    lat: list[float]
    placement: list[str]
    tags: list[int]

    def __len__(self) -> int:
        return len(self.lon)


@dataclass
class Sheet:
    """Everything one wall map carries besides its base (roads and buildings, fetched for the frame)."""

    kind: str  # grid | community | school | sections
    code: str
    profile: str  # public | office
    title: str
    subtitle: list[str]
    area: BaseGeometry  # what must fit, lon/lat
    layers: list[SheetLayer]  # drawn in order, above the base
    households: Households | None = None
    tags: tuple[str, ...] = ()
    people_heading: str = "网格员"
    people: list[tuple[str, str]] = field(default_factory=list)  # (who, public phone or "")
    facts: list[str] = field(default_factory=list)  # counts (office) or notes
    made_on: date = field(default_factory=date.today)
    source: str = "数据来源：网格化管理系统（网格、住户、道路、建筑）"
    base: list[SheetLayer] = field(default_factory=list)  # roads and buildings, under everything
    layout: Layout | None = None
    centre: tuple[float, float] = (0.0, 0.0)  # lon, lat of the projection's origin


def projector(lon0: float, lat0: float) -> Transformer:
    """WGS 84 lon/lat → a transverse Mercator (k = 1) centred on (lon0, lat0), metres, x east."""
    return Transformer.from_crs(
        "EPSG:4326",
        f"+proj=tmerc +lat_0={lat0:.9f} +lon_0={lon0:.9f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
        always_xy=True)


def fit_any(extent_m: tuple[float, float], smallest: str, scale: int | None = None) -> Layout:
    """The layout on the smallest paper from ``smallest`` up to A0 on which the area fits."""
    names = list(PAPERS)
    for name in names[names.index(smallest):]:
        try:
            return fit_layout(extent_m, name, scale)
        except InvalidInput:
            if name == names[-1]:
                raise
    raise AssertionError("unreachable")


def plan(sheet: Sheet, paper: str | None, scale: int | None = None,
         smallest: str = "A3") -> tuple[Layout, tuple[float, float, float, float]]:
    """Choose the sheet's layout and centre (set on it): on ``paper``, or when None on the smallest
    paper from ``smallest`` up that holds it; the ground box of the map frame in lon/lat (w, s, e, n),
    with a little more around it, for the base's query."""
    w, s, e, n = sheet.area.bounds
    lon0, lat0 = (w + e) / 2, (s + n) / 2
    tr = projector(lon0, lat0)
    ring = shapely.transform(sheet.area, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    x0, y0, x1, y1 = ring.bounds
    width, height = x1 - x0, y1 - y0
    pad = max(PAD_MIN_M, PAD_SHARE * max(width, height))
    extent = (width + 2 * pad, height + 2 * pad)
    layout = fit_layout(extent, paper, scale) if paper else fit_any(extent, smallest, scale)
    # The projection's origin is the box's centre: the frame's centre on the paper.
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lon_c, lat_c = tr.transform(cx, cy, direction="INVERSE")
    sheet.layout, sheet.centre = layout, (float(lon_c), float(lat_c))
    half_w = (layout.frame[2] - layout.frame[0]) / 2 * layout.ground_per_pt
    half_h = (layout.frame[3] - layout.frame[1]) / 2 * layout.ground_per_pt
    centred = projector(*sheet.centre)
    lons, lats = centred.transform(np.array([-half_w, half_w, -half_w, half_w]),
                                   np.array([-half_h, -half_h, half_h, half_h]), direction="INVERSE")
    slack = 0.0005  # degrees (~50 m): the frame's corners curve a little in lon/lat
    return layout, (float(min(lons)) - slack, float(min(lats)) - slack,
                    float(max(lons)) + slack, float(max(lats)) + slack)


def to_paper(sheet: Sheet) -> Any:
    """A function (n, 2) lon/lat array → (n, 2) page points, for shapely.transform."""
    assert sheet.layout is not None
    layout, tr = sheet.layout, projector(*sheet.centre)
    fx = (layout.frame[0] + layout.frame[2]) / 2
    fy = (layout.frame[1] + layout.frame[3]) / 2
    k = 1 / layout.ground_per_pt

    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((fx + np.asarray(x) * k, fy + np.asarray(y) * k))

    return transform


def nice_length(max_m: float) -> float:
    """The longest round ground length (1, 2, 2.5 or 5 × 10^k metres) not longer than ``max_m``."""
    exp = 10 ** math.floor(math.log10(max_m))
    return max(m * exp for m in (1, 2, 2.5, 5) if m * exp <= max_m)

"""Reading a wall map PDF back for the tests: rectangles with their fill colour (the household squares,
the scale bar) from the page's drawing operators, the text, the fonts; a PNG preview."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ContentStream

PT_M = 0.0254 / 72  # metres per point


def rgb(colour: str) -> tuple[float, float, float]:
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: tuple[float, ...]

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def filled(self, colour: str) -> bool:
        return all(abs(a - b) < 2e-3 for a, b in zip(self.fill, rgb(colour), strict=True))


def _mul(a: list[float], b: list[float]) -> list[float]:
    """Affine matrices [a b c d e f] as PDF writes them: a · b."""
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def filled_rects(pdf: bytes) -> list[Rect]:
    """Every filled ``re`` of the first page, in page coordinates (the current matrix applied; the
    sheet translates only), with the fill colour in force."""
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    ops = ContentStream(page.get_contents(), reader).operations
    ctm, fill = [1.0, 0, 0, 1.0, 0, 0], (0.0, 0.0, 0.0)
    stack: list[tuple[list[float], tuple[float, ...]]] = []
    pending: list[list[float]] = []
    out: list[Rect] = []
    for operands, op in ops:
        if op == b"q":
            stack.append((ctm, fill))
        elif op == b"Q":
            ctm, fill = stack.pop()
        elif op == b"cm":
            ctm = _mul([float(v) for v in operands], ctm)
        elif op == b"rg":
            fill = tuple(float(v) for v in operands)
        elif op == b"g":
            fill = (float(operands[0]),) * 3
        elif op == b"re":
            pending.append([float(v) for v in operands])
        elif op in (b"f", b"f*", b"F", b"B", b"B*", b"b", b"b*"):
            for x, y, w, h in pending:
                out.append(Rect(ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5],
                                w * ctm[0], h * ctm[3], fill))
            pending = []
        elif op in (b"n", b"S", b"s"):
            pending = []
    return out


def text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def fonts(pdf: bytes) -> dict[str, bool]:
    """Each font of the page: whether its program is embedded."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    found = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        found[str(font.get("/BaseFont"))] = any(k in descriptor for k in ("/FontFile", "/FontFile2",
                                                                          "/FontFile3"))
    return found


def page_size(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def preview(pdf: bytes, name: str, folder: Path) -> Path:
    """A PNG of the page (72 dpi × 1.5) kept as a test artefact in ``folder``, or in
    $GRIDMAP_TEST_ARTIFACTS when set."""
    import pypdfium2

    folder = Path(os.environ.get("GRIDMAP_TEST_ARTIFACTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    doc = pypdfium2.PdfDocument(pdf)
    image = doc[0].render(scale=1.5).to_pil()
    path = folder / f"{name}.png"
    image.save(path)
    doc.close()
    return path

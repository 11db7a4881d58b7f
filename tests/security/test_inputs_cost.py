"""Issue 10, class 8: small inputs must not cost a lot. Each attack is timed from outside.

On the code before the fix: the 12 KB workbook with a cell in column XFD on every row was expanded
by openpyxl/pandas into millions of cells (about a minute of CPU); the gates regex backtracked
quadratically over the blanks (seconds for a few rows of 5,000 spaces); an anonymous upload's body
was read and spooled in full before the 401, so the raw socket below, which sends headers only,
got no answer at all; and a 200-deep CQL2 filter ran into Python's recursion limit (a 500).
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_sec_cost")


@pytest.fixture(scope="module")
def http(settings, admin_token: str) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


def xlsx_bomb(rows: int = 2_000) -> bytes:
    """A header, then one cell in column XFD (16,384) on every row: a few KB on disk."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B1"], sheet["C1"], sheet["D1"] = "name", "category", "lon", "lat"
    for row in range(2, rows + 2):
        sheet.cell(row=row, column=16_384, value=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_bomb_is_refused_in_under_two_seconds(http):
    bomb = xlsx_bomb()
    assert len(bomb) < 40_000
    start = time.monotonic()
    r = http.post("/imports/places", files={"file": ("places.xlsx", bomb)})
    elapsed = time.monotonic() - start
    assert r.status_code == 422, r.text
    assert "cells" in r.text
    assert elapsed < 2, f"{elapsed:.1f} s"


def test_a_dense_but_honest_workbook_still_imports(tmp_path):
    from gis.interop.readers import read_frame

    path = tmp_path / "many.xlsx"
    columns = {f"c{i}": [f"v{i}-{n}" for n in range(3_000)] for i in range(30)}
    pd.DataFrame(columns).to_excel(path, index=False)
    frame = read_frame(path)
    assert frame.shape == (3_000, 30)


def _schools_csv(rows: int, gates: str) -> bytes:
    lines = ["ref,name,level,lon,lat,gates"]
    lines += [f"s{i},学校{i},primary,113.5,25.5,\"{113.5 + i / 1e4}{gates}x\"" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_gates_of_thousands_of_blanks_validate_in_linear_time():
    from gis.catalog import layer_spec
    from gis.errors import InvalidInput
    from gis.interop.validate import validated_rows
    from gis.settings import CHINA_BBOX

    frame = pd.read_csv(io.BytesIO(_schools_csv(40, " " * 5_000)), dtype=str, keep_default_na=False)
    start = time.monotonic()
    with pytest.raises(InvalidInput) as err:
        validated_rows(layer_spec("schools"), frame, crs=None, field_map={}, region_bbox=CHINA_BBOX)
    elapsed = time.monotonic() - start
    assert {p.field for p in err.value.problems} == {"gates"}
    assert elapsed < 0.5, f"{elapsed:.2f} s for 40 gates values of 5,000 blanks"


def test_gates_of_thousands_of_blanks_over_http(http):
    start = time.monotonic()
    r = http.post("/imports/schools", files={"file": ("schools.csv", _schools_csv(40, " " * 5_000))})
    elapsed = time.monotonic() - start
    assert r.status_code == 422, r.text
    assert elapsed < 3, f"{elapsed:.1f} s"


def test_valid_gates_still_parse():
    from gis.perimeter.specs import _gates_problem, _gates_wkt

    for value, wkt in [("113.1,25.1; 113.2 25.2", "MULTIPOINT((113.1 25.1), (113.2 25.2))"),
                       (" 113.1 ,  25.1 ", "MULTIPOINT((113.1 25.1))"),
                       ("MULTIPOINT((1 2),(3 4))", "MULTIPOINT((1 2),(3 4))")]:
        assert _gates_wkt(value) == wkt
        assert _gates_problem(_gates_wkt(value)) is None
    assert _gates_problem(_gates_wkt("113.1,,25.1")) is not None


def _raw_answer(base_url: str, head: str, timeout: float = 5.0) -> tuple[str, float]:
    """Send request headers only (no body) and read what the server answers, timed."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as s:
        start = time.monotonic()
        s.sendall(head.encode())
        try:
            answer = s.recv(4096).decode("latin-1")
        except TimeoutError:
            answer = ""
        return answer, time.monotonic() - start


def _upload_head(base_url: str, length: int, token: str | None = None) -> str:
    host = urlsplit(base_url).netloc
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST /imports/places HTTP/1.1\r\nHost: {host}\r\n{auth}"
            "Content-Type: multipart/form-data; boundary=gridmapboundary\r\n"
            f"Content-Length: {length}\r\n\r\n")


def test_an_anonymous_50mb_upload_is_refused_before_its_body(settings, serve_app):
    from api.app import create_app

    with serve_app(create_app(settings)) as base_url:
        answer, elapsed = _raw_answer(base_url, _upload_head(base_url, 50 * 1024 * 1024))
        assert answer.startswith("HTTP/1.1 401"), f"no 401 before the body was sent: {answer!r}"
        assert elapsed < 2
        answer, _ = _raw_answer(base_url, _upload_head(base_url, 50 * 1024 * 1024, token="not-a-token"))
        assert answer.startswith("HTTP/1.1 401"), answer


def test_an_upload_over_the_limit_is_refused_before_its_body(settings, admin_token, serve_app):
    from api.app import create_app

    too_big = (settings.max_upload_mb + 2) * 1024 * 1024
    with serve_app(create_app(settings)) as base_url:
        answer, elapsed = _raw_answer(base_url, _upload_head(base_url, too_big, token=admin_token))
        assert answer.startswith("HTTP/1.1 413"), answer
        assert elapsed < 2


def test_a_signed_in_upload_still_goes_through(http):
    r = http.post("/imports/places", files={"file": ("p.csv", b"ref,name,category,lon,lat\n")})
    assert r.status_code == 422 and "no data rows" in r.text  # read and validated, not refused


@pytest.mark.parametrize("text", [
    "(" * 200 + "name = 'a'" + ")" * 200,
    "NOT (" * 200 + "name = 'a'" + ")" * 200,
    " OR ".join(["name = 'a'"] * 2_000),
])
def test_a_deeply_nested_cql2_filter_answers_400(http, text):
    start = time.monotonic()
    r = http.get("/ogc/collections/places/items", params={"filter": text})
    assert r.status_code == 400, r.text
    assert time.monotonic() - start < 2


def test_a_reasonable_cql2_filter_still_works(http):
    text = " AND ".join(["(name = 'a' OR name <> 'b')"] * 10)
    r = http.get("/ogc/collections/places/items", params={"filter": text})
    assert r.status_code == 200, r.text

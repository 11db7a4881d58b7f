"""Benchmark: bundling a 2,000-file quarter (报送材料包), on a throwaway cluster.

One community with the 30-item demo sheet and 2,000 evidence items of the quarter: 1,500 photos (random
bytes the size of a phone's compressed JPEG, as incompressible as one, in the media table) and 500
documents (CSV text, compressible), each file in the content-addressed store. The submission is frozen
once (gis/assessment/freeze.py: figures, evidence list, manifest hash); then the bundle is rebuilt from
the frozen row (every file read and its sha256 checked, a sorted manifest, fixed ZIP timestamps) and
timed against a baseline measured side by side: a plain zipfile.ZipFile of the same files in the same
order and compression, no hashing and no manifest. Prints the medians, the ratio to the baseline and
the 30 s target (issue 16), and checks the bundle verifies and that two builds are byte-identical.

    .venv/bin/python benchmarks/bench_assessment.py [--files 2000] [--photo-kb 150] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import psycopg
from _harness import migrated_database, throwaway_cluster

from gis.assessment import bundle, files, freeze, quarters, sheet
from gis.demo.scoring import demo_sheet_xlsx

TARGET_S = 30.0
COMMUNITY = "430102001001"


def load(conn: psycopg.Connection, data_dir: Path, n_files: int, photo_kb: int, q: quarters.Quarter) -> int:
    """The community, the sheet and ``n_files`` evidence items with their files; total bytes."""
    conn.execute("INSERT INTO community (code, name, geom) VALUES (%s, '幸福社区',"
                 " ST_Multi(ST_MakeEnvelope(112.0, 28.0, 112.02, 28.01, 4326)))", [COMMUNITY])
    sheet.import_sheet(conn, data_dir, demo_sheet_xlsx(), quarter=q, scope=COMMUNITY[:9],
                       title="考核评分细则", stored_by="bench")
    photos, documents, total = [], [], 0
    for i in range(n_files):
        if i % 4 != 3:  # three photos to a document
            content = os.urandom(photo_kb * 1024)
            photos.append((hashlib.sha256(content).hexdigest(), len(content)))
        else:
            content = "".join(f"{i},{k},幸福路{k}号,已完成\n" for k in range(800)).encode()
            documents.append((hashlib.sha256(content).hexdigest(), len(content)))
        target = files.path_of(data_dir, hashlib.sha256(content).hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        total += len(content)
    conn.execute("INSERT INTO media (sha256, mime, bytes, width, height, stored_by)"
                 " SELECT s, 'image/jpeg', b, 4000, 3000, 'bench'"
                 " FROM unnest(%s::text[], %s::bigint[]) t(s, b)",
                 [[s for s, _ in photos], [b for _, b in photos]])
    conn.execute("INSERT INTO evidence_file (sha256, mime, bytes, stored_by)"
                 " SELECT s, 'text/csv', b, 'bench' FROM unnest(%s::text[], %s::bigint[]) t(s, b)",
                 [[s for s, _ in documents], [b for _, b in documents]])
    conn.execute(
        "INSERT INTO evidence_item (quarter, community_code, sha256, kind, mime, title, item_no, recorded_by)"
        " SELECT %s, %s, s, k, m, '材料 ' || ord, ((ord %% 30) + 1)::text, 'bench'"
        " FROM unnest(%s::text[], %s::text[], %s::text[]) WITH ORDINALITY t(s, k, m, ord)",
        [q.code, COMMUNITY, [s for s, _ in photos] + [s for s, _ in documents],
         ["photo"] * len(photos) + ["spreadsheet"] * len(documents),
         ["image/jpeg"] * len(photos) + ["text/csv"] * len(documents)])
    return total


def plain_zip(out: io.IOBase, data_dir: Path, listed: list[dict]) -> None:
    """The baseline: the same files, order and compression, straight from disk into a ZIP."""
    with zipfile.ZipFile(out, "w", compresslevel=6) as z:  # type: ignore[arg-type]
        for f in listed:
            kind = zipfile.ZIP_STORED if f["mime"].startswith("image/") else zipfile.ZIP_DEFLATED
            z.write(files.path_of(data_dir, f["sha256"]), f["path"], compress_type=kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--photo-kb", type=int, default=150)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    q = quarters.Quarter(2026, 1)
    with throwaway_cluster() as cluster:
        url = migrated_database(cluster)
        data_dir = Path(cluster.root) / "data"
        with psycopg.connect(url) as conn:
            t0 = time.perf_counter()
            total = load(conn, data_dir, args.files, args.photo_kb, q)
            conn.commit()
            print(f"loaded {args.files} evidence files, {total / 1e6:.0f} MB, "
                  f"in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            frozen = freeze.freeze(conn, data_dir, q, COMMUNITY, on=q.end)
            conn.commit()
            print(f"freeze (figures, evidence list, manifest hash): {time.perf_counter() - t0:.2f} s, "
                  f"{len(frozen['evidence'])} files")
            listed = sorted(frozen["evidence"], key=lambda f: f["path"])
            with tempfile.TemporaryDirectory() as tmp:
                ours, theirs, digests = [], [], []
                for run in range(args.runs):
                    for name, timings in (("bundle", ours), ("plain", theirs)):  # side by side
                        target = Path(tmp) / f"{name}-{run}.zip"
                        t0 = time.perf_counter()
                        with target.open("wb") as out:
                            if name == "bundle":
                                digests.append(freeze.write(conn, data_dir, frozen["id"], out))
                            else:
                                plain_zip(out, data_dir, listed)
                        timings.append(time.perf_counter() - t0)
                first, last = Path(tmp) / "bundle-0.zip", Path(tmp) / f"bundle-{args.runs - 1}.zip"
                identical = first.read_bytes() == last.read_bytes()
                t0 = time.perf_counter()
                problems = bundle.verify(first, frozen["manifest_sha256"])
                verify_s = time.perf_counter() - t0
                size = first.stat().st_size
    med, base = statistics.median(ours), statistics.median(theirs)
    print(f"bundle of {args.files} files ({size / 1e6:.0f} MB ZIP): median {med:.2f} s over {args.runs} runs "
          f"(min {min(ours):.2f}, max {max(ours):.2f}); target {TARGET_S:.0f} s: "
          f"{'met' if med < TARGET_S else 'MISSED'}")
    print(f"baseline, plain zipfile of the same files side by side: median {base:.2f} s; "
          f"bundle / plain = {med / base:.2f}x (the cost of reading each file once, checking its hash, "
          "and the manifest)")
    same_hash = set(digests) == {frozen["manifest_sha256"]}
    print(f"gridmap assess verify of the bundle: {verify_s:.2f} s, {len(problems)} problems; "
          f"builds byte-identical: {identical}; manifest hash = frozen: {same_hash}")
    assert not problems and identical and same_hash


if __name__ == "__main__":
    main()

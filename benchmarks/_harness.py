"""The throwaway PostGIS every benchmark runs on: a cluster of its own in a temporary folder, never the
demo database, stopped and removed when the benchmark ends."""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

# Run as `.venv/bin/python benchmarks/bench_x.py`, Python puts benchmarks/ first on the path; the
# repository root is needed too, for the scripts that borrow test fixtures (tests.access.conftest).
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))

from gis.embedded import DBNAME, Cluster  # noqa: E402
from gis.migrate import migrate  # noqa: E402


def free_port() -> int:
    """A TCP port nothing listens on right now (for the cluster and for servers a benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_cluster(prefix: str = "gridmap-bench-") -> Iterator[Cluster]:
    """A started cluster in a new temporary folder (``cluster.root``, which the benchmark may use for
    its own files); stopped and deleted on the way out, also when the benchmark fails."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)  # the server runs as user postgres when we are root
    cluster = Cluster(root, free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def migrated_database(cluster: Cluster, dbname: str = DBNAME) -> str:
    """Create ``dbname`` on the cluster if needed, apply every migration; its conninfo."""
    cluster.ensure_database(dbname)
    url = cluster.conninfo(dbname)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url

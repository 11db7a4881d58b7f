"""The embedded PostGIS cluster: initdb, start, stop and status in a data folder.

PostgreSQL refuses to run as root, so when gridmap is run as root the cluster belongs to the
unprivileged ``postgres`` user and every server command goes through ``runuser``. Connections use
a Unix socket in a private folder (mode 0700), so no TCP port is opened and no password is needed:
only the owner of the cluster (and root) can reach it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "gridmap"
DBNAME = "gridmap"
SERVER_SETTINGS = {
    "listen_addresses": "''",
    "jit": "off",  # JIT adds ~0.35 s to spatial joins that run in well under a second
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "synchronous_commit": "off",
    "fsync": "on",
}


class EmbeddedError(RuntimeError):
    pass


def pg_bin(tool: str) -> str:
    """A server tool of the newest PostgreSQL that has PostGIS installed beside it."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for folder in reversed(versions):
        postgis = Path("/usr/share/postgresql", folder.parent.name, "extension", "postgis.control")
        if (folder / tool).exists() and postgis.exists():
            return str(folder / tool)
    found = shutil.which(tool)
    if not found:
        raise EmbeddedError(f"PostgreSQL's {tool} not found: run .ci/setup (installs PostgreSQL and PostGIS)")
    return found


def _run_as() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster in ``root`` (data in root/pgdata), reached on a Unix socket."""

    root: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        # A Unix socket path must stay under ~107 bytes; deep checkouts fall back to /tmp.
        candidate = self.root / "run"
        if len(str(candidate)) + 20 < 100:
            return candidate
        digest = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"gridmap-{digest}"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    def conninfo(self, dbname: str = DBNAME) -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def _cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*_run_as(), *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise EmbeddedError(f"{' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> bool:
        """Create the cluster if it does not exist yet. Returns True if it was created."""
        if self.initialised:
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            probe = subprocess.run(_run_as() + ["test", "-w", str(self.root)])
            if probe.returncode != 0:
                raise EmbeddedError(
                    f"user postgres cannot write {self.root}: make its parent folders traversable "
                    "(chmod o+x) or set GRIDMAP_DATA_DIR elsewhere"
                )
        self._own(self.pgdata)
        self._cmd(pg_bin("initdb"), "-D", str(self.pgdata), "-U", SUPERUSER, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        conf = self.pgdata / "postgresql.auto.conf"
        lines = [f"{k} = {v}" for k, v in SERVER_SETTINGS.items()]
        lines.append(f"unix_socket_directories = '{self.socket_dir}'")
        lines.append("unix_socket_permissions = 0700")
        lines.append(f"port = {self.port}")
        self._cmd("sh", "-c", f"cat >> '{conf}' <<'EOF'\n" + "\n".join(lines) + "\nEOF\n")
        return True

    def running(self) -> bool:
        if not self.initialised:
            return False
        return self._cmd(pg_bin("pg_ctl"), "status", "-D", str(self.pgdata), check=False).returncode == 0

    def start(self) -> bool:
        """Start the server (initialising it first). Returns False if it was already running."""
        self.init()
        if self.running():
            return False
        self._own(self.socket_dir)
        self._cmd(pg_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.pgdata),
                  "-l", str(self.logfile), "-o", f"-p {self.port}")
        return True

    def stop(self) -> bool:
        if not self.running():
            return False
        self._cmd(pg_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.pgdata))
        return True

    def ensure_database(self, dbname: str = DBNAME) -> None:
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            if not exists:
                from psycopg import sql

                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

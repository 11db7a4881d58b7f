"""Lint, types and the import contracts are part of the suite: a failing ruff, mypy or lint-imports
fails CI."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_clean():
    proc = _run("ruff", "check", "gis", "api", "layers", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean():
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_contracts_kept():
    """The layering in pyproject.toml's [tool.importlinter]: api -> layers -> gis, capabilities
    independent, no web/map/CLI framework in gis, no database driver in layers."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

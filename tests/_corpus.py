"""Helpers of the bad-input corpus: run the CLI, checksum a folder tree, copy the demo study."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from covgap.cli import main


def snapshot(root: Path, *, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file below ``root`` (folders in ``skip`` left out), by relative path."""
    out = {}
    skip = tuple(p.resolve() for p in skip)
    for dirpath, dirs, names in os.walk(root):
        d = Path(dirpath).resolve()
        if any(d == s or d.is_relative_to(s) for s in skip):
            dirs.clear()
            continue
        for n in names:
            p = d / n
            out[str(p.relative_to(root.resolve()))] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() \
                else "not a file"
    return out


def copy_study(demo_out: Path, dest: Path) -> Path:
    """A writable copy of the demo's inputs and config (``dest/covgap.toml``, ``dest/inputs``)."""
    shutil.copytree(demo_out / "inputs", dest / "inputs")
    shutil.copy(demo_out / "covgap.toml", dest / "covgap.toml")
    return dest


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``covgap`` in process: (exit status, stdout, stderr)."""
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def cli_subprocess(argv: list[str], *, env_extra: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``python -m covgap.cli`` in a child process: (exit status, stdout, stderr)."""
    env = {**os.environ, **(env_extra or {})}
    res = subprocess.run([sys.executable, "-m", "covgap.cli", *[str(a) for a in argv]], capture_output=True,
                         text=True, env=env)
    return res.returncode, res.stdout, res.stderr


def assert_clean_error(rc: int, err: str, *, code: int = 2, must: tuple[str, ...] = ()) -> None:
    """Exit status ``code``, one ``covgap: error:`` message holding each of ``must`` and a fix, no traceback."""
    assert rc == code, err
    assert "Traceback" not in err, err
    assert err.startswith("covgap: error:"), err
    assert "Fix" in err or "fix" in err, f"no fix named: {err}"
    for m in must:
        assert m in err, f"{m!r} not in message: {err}"

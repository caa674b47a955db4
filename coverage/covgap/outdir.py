"""Output folders: written atomically, replaced only when covgap wrote every file in them.

A run writes into a hidden staging folder ``.<out>.partial-XXXX/`` next to ``--out`` and moves it
into place only when every step succeeded. The finished folder carries a manifest
(:data:`OUTPUT_MARKER`, JSON) listing every file covgap wrote there with its size and SHA-256.
A later run may replace the folder only when

- nothing in it is missing from the manifest or changed since (a file a user added or edited),
- it holds neither the config being run nor any input (``covgap run out/demo/covgap.toml --out out/demo``),
- it was written by the same kind of command (``covgap plan`` never replaces a run's folder).

Each staging folder records the process that made it (:data:`STAGING_INFO`); staging folders
of processes that are no longer alive are removed at the next run. covgap never deletes a
file it did not write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from . import __version__
from .errors import CovgapWarning, DataFileError, InputError

__all__ = [
    "OUTPUT_MARKER",
    "STAGING_INFO",
    "check_out_dir",
    "staging_dir",
    "remove_stale_staging",
    "read_manifest",
]

#: File (a JSON manifest) that marks a folder as covgap output and lists the files covgap wrote in it.
OUTPUT_MARKER = ".covgap-output"
#: File inside a staging folder naming the process that writes it (PID, host, process start time).
STAGING_INFO = ".covgap-staging"

#: Commands whose output folders may replace each other (``run`` may replace a demo's folder).
_FAMILY = {"run": "analysis", "demo": "analysis", "plan": "plan", "calibrate": "calibration"}
_MANIFEST_FORMAT = 1
_SHOW = 5  # files named in a refusal


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    """Every non-folder entry below ``folder`` (symbolic links included, not followed), as (posix rel, path)."""
    for root, dirs, names in os.walk(folder, followlinks=False):
        r = Path(root)
        for d in list(dirs):
            if (r / d).is_symlink():  # a link to a folder is an entry covgap never writes
                names.append(d)
                dirs.remove(d)
        for n in names:
            p = r / n
            yield p.relative_to(folder).as_posix(), p


def read_manifest(folder: str | Path) -> dict | None:
    """The manifest of a covgap output folder, or ``None`` when it has none or an unreadable one."""
    marker = Path(folder) / OUTPUT_MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def _write_manifest(folder: Path, command: str) -> None:
    files = {rel: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
             for rel, p in sorted(_files(folder)) if rel not in (OUTPUT_MARKER, STAGING_INFO)}
    data = {"written_by": "covgap", "format": _MANIFEST_FORMAT, "covgap_version": __version__,
            "command": command, "files": files,
            "note": "covgap replaces this folder only while it holds exactly these files, unchanged"}
    (folder / OUTPUT_MARKER).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown + (f" and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


def _free_name(out: Path, suffix: str) -> Path:
    cand = out.parent / f"{out.name}-{suffix}"
    i = 2
    while cand.exists():
        cand = out.parent / f"{out.name}-{suffix}{i}"
        i += 1
    return cand


def check_out_dir(out_dir: str | Path, *, command: str = "run",
                  protect: Mapping[str, str | Path] | None = None) -> Path:
    """Check that ``out_dir`` may receive (or be replaced by) the outputs of ``command``; return it resolved.

    Parameters
    ----------
    out_dir
        The ``--out`` folder.
    command
        ``"run"``, ``"demo"``, ``"plan"`` or ``"calibrate"``: the kind of output (a plan never replaces a
        run's folder).
    protect
        Files that must survive, by role (``{"config": path, "input 'towers'": path}``): none of them
        may lie inside ``out_dir``.

    Raises
    ------
    InputError
        The folder is a file or below one, holds a protected file, a file covgap did not write
        (or one changed since), or another command's outputs. Each message names the fix.
    """
    if command not in _FAMILY:
        raise ValueError(f"command must be one of {sorted(_FAMILY)}; got {command!r}")
    given = Path(out_dir).expanduser()
    for p in (given, *given.parents):
        if p.exists() and not p.is_dir():
            where = "is a file" if p == given else f"lies below {p}, which is a file"
            raise InputError(f"--out {given} {where}; --out must be a folder. "
                             f"Fix: choose a folder, e.g. --out {_free_name(p, 'out')}.")
    out = given.resolve()
    for role, path in (protect or {}).items():
        q = Path(path).expanduser().resolve()
        if q == out or q.is_relative_to(out) or out.is_relative_to(q):
            where = f"holds the {role} ({q})" if q.is_relative_to(out) else f"lies inside the {role} ({q})"
            raise InputError(
                f"--out {out} {where}; replacing that folder would delete it. "
                f"Fix: write the outputs to a new folder, e.g. --out {_free_name(out, command)}.")
    if not out.exists() or not any(out.iterdir()):
        return out
    fix = f"Fix: choose another --out (e.g. {_free_name(out, command)}), or move your files out of that folder."
    manifest = read_manifest(out)
    if manifest is None:
        if (out / OUTPUT_MARKER).exists():
            raise InputError(
                f"output folder {out} was written by an older covgap that kept no list of the files it wrote, "
                "so covgap cannot tell its files from yours; refusing to overwrite it. "
                f"Fix: delete that folder yourself once nothing in it is yours, or choose another --out "
                f"(e.g. {_free_name(out, command)}).")
        raise InputError(
            f"output folder {out} exists, is not empty and was not written by covgap; refusing to overwrite it. "
            f"Fix: choose another --out (e.g. {_free_name(out, command)}) or empty that folder.")
    prev = str(manifest.get("command", "run"))
    if _FAMILY.get(prev, prev) != _FAMILY[command]:
        raise InputError(
            f"output folder {out} holds the outputs of `covgap {prev}`; `covgap {command}` writes to its own "
            f"folder and does not replace them. Fix: --out {_free_name(out, command)} (or any new folder).")
    listed = manifest["files"]
    extra, changed = [], []
    for rel, p in _files(out):
        if rel == OUTPUT_MARKER:
            continue
        meta = listed.get(rel)
        if not isinstance(meta, dict) or p.is_symlink() or not p.is_file():
            extra.append(rel)
        elif p.stat().st_size != meta.get("bytes") or _sha256(p) != meta.get("sha256"):
            changed.append(rel)
    if extra:
        raise InputError(f"output folder {out} holds {len(extra)} file(s) covgap did not write there: "
                         f"{_listing(sorted(extra))}; refusing to replace the folder. {fix}")
    if changed:
        raise InputError(f"output folder {out} holds {len(changed)} file(s) changed since covgap wrote them: "
                         f"{_listing(sorted(changed))}; refusing to replace the folder. {fix}")
    return out


def _proc_start(pid: int) -> str | None:
    """Start time of process ``pid`` (clock ticks since boot, Linux), or ``None`` where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 counted from the pid


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    now = _proc_start(pid)
    return start is None or now is None or now == start  # a reused PID is another process


def remove_stale_staging(parent: str | Path) -> list[Path]:
    """Remove the staging folders (and replaced output folders) in ``parent`` left by covgap runs that died.

    Only folders holding a :data:`STAGING_INFO` record of a process on this host that is no longer
    alive are removed. Returns the folders removed.
    """
    parent = Path(parent)
    removed = []
    host = socket.gethostname()
    try:
        entries = [p for p in parent.iterdir() if p.name.startswith(".") and (".partial-" in p.name or ".old-" in p.name)]
    except OSError:
        return removed
    for d in entries:
        if d.is_symlink() or not d.is_dir():
            continue
        try:
            info = json.loads((d / STAGING_INFO).read_text(encoding="utf-8"))
            pid, start = int(info["pid"]), info.get("start")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if info.get("host") != host or _alive(pid, start):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d)
    return removed


def _stamp(folder: Path) -> None:
    pid = os.getpid()
    (folder / STAGING_INFO).write_text(json.dumps({"pid": pid, "host": socket.gethostname(),
                                                   "start": _proc_start(pid)}) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM while the block runs; yields the list of those that arrived.

    Python runs signal handlers in the main thread whatever thread the OS delivers to, so a
    signal mask (``pthread_sigmask``) does not hold them in a process with other threads (Dask,
    numba, progress bars): the handlers themselves are swapped for one that records the signal.
    Outside the main thread (handlers cannot be set there) the block runs as it is.
    """
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover - library use in a thread
        yield caught
        return
    # a signal the process ignores (e.g. SIGINT of a background job) stays ignored
    sigs = [s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) is not signal.SIG_IGN]
    old = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in sigs}
    try:
        yield caught
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def staging_dir(out_dir: str | Path, *, command: str = "run",
                protect: Mapping[str, str | Path] | Iterable[tuple[str, str | Path]] | None = None) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out_dir`` on success and vanishes on failure.

    ``out_dir`` is checked by :func:`check_out_dir` before and again just before it is replaced
    (a user may have added a file meanwhile). Stale staging folders of dead runs next to it are
    removed first. The finished folder gets a manifest of the files in it.
    """
    prot = dict(protect or {})
    out = check_out_dir(out_dir, command=command, protect=prot)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFileError(f"cannot create the folder {out.parent} for --out {out}: {exc.strerror}. "
                            "Fix: choose a folder you can write to.") from exc
    remove_stale_staging(out.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise DataFileError(f"cannot write in {out.parent}: {exc.strerror}. "
                            "Fix: choose a folder you can write to.") from exc
    try:
        tmp.chmod(0o755)
        _stamp(tmp)
        yield tmp
        check_out_dir(out, command=command, protect=prot)
        (tmp / STAGING_INFO).unlink()
        _write_manifest(tmp, command)
        old = None
        with _signals_deferred() as caught:  # the swap is not interrupted half-way
            if out.exists():
                old = out.parent / f".{out.name}.old-{os.getpid()}"
                out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                if old is not None:  # put the previous outputs back
                    old.rename(out)
                raise
            if old is not None:
                _stamp(old)  # removed at the next run should this process die before the rmtree below
        if caught:
            # the outputs are complete and in place: a Ctrl-C or SIGTERM that arrived during the swap does
            # not make the run "interrupted, nothing written" (it was written); say so and finish normally
            names = ", ".join(sorted({signal.Signals(n).name for n in caught}))
            warnings.warn(f"{names} received while the finished outputs were being put in place in {out}; they "
                          "are complete and kept.", CovgapWarning, stacklevel=3)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

"""The download cache: ``data/raw/`` by default, one manifest per file, an offline mode.

A file is *in the cache* when it exists under its final name **and** its manifest exists
and records the same size (:meth:`Cache.has`). Files are only ever put there by
:func:`covgap.sources.http.download` (verified, then renamed) or by
:meth:`Cache.write_derived` (mosaics, extracted archives, sites tables made from cached
files), so a file in the cache is complete.

In offline mode (:attr:`Cache.offline`, ``covgap fetch --offline``) nothing is
downloaded: every file asked for that is not in the cache is recorded in
:attr:`Cache.missing` (with its redacted URL) and :class:`OfflineMissingError` is raised
for it, so a caller can list everything that is missing in one go.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FetchError
from .catalog import Endpoints
from .http import (
    HttpOptions,
    check_writable,
    download,
    read_manifest,
    redact,
    sha256_file,
    write_manifest,
)

__all__ = ["DEFAULT_CACHE_DIR", "Cache", "MissingFile", "OfflineMissingError"]

#: Default cache folder, relative to the working directory (git-ignored).
DEFAULT_CACHE_DIR = Path("data/raw")


class OfflineMissingError(FetchError):
    """A file is needed, is not in the cache, and the cache is offline."""


@dataclass(frozen=True)
class MissingFile:
    """One file an offline run needed but the cache does not hold."""

    path: Path
    url: str
    source: str = ""

    def __str__(self) -> str:
        return f"{self.path}  ←  {self.url}" + (f"  [{self.source}]" if self.source else "")


@dataclass
class Cache:
    """Where downloads go and how they are fetched.

    Parameters
    ----------
    root : path
        Cache folder (default ``data/raw``).
    offline : bool
        Use only what is cached; record what is missing.
    http : HttpOptions
        Network behaviour (timeouts, retries, backoff, progress bars).
    endpoints : Endpoints
        Base URL of each service (real ones by default; tests point them at 127.0.0.1).

    """

    root: Path = DEFAULT_CACHE_DIR
    offline: bool = False
    http: HttpOptions = field(default_factory=HttpOptions)
    endpoints: Endpoints = field(default_factory=Endpoints.from_env)
    missing: list[MissingFile] = field(default_factory=list)
    verify: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def path(self, relpath: str | Path) -> Path:
        """Absolute-ish path of ``relpath`` inside the cache."""
        return self.root / relpath

    def has(self, relpath: str | Path) -> bool:
        """Tell whether the file and its manifest exist and the sizes agree."""
        p = self.path(relpath)
        if not p.is_file():
            return False
        man = read_manifest(p)
        if not man or man.get("bytes") != p.stat().st_size:
            return False
        if self.verify and man.get("sha256") != sha256_file(p):
            raise FetchError(
                f"{p}: its sha256 differs from the one in its manifest; the file was changed or damaged "
                "after download. Fix: delete it (and its .manifest.json) and run `covgap fetch` again."
            )
        return True

    def manifest(self, relpath: str | Path) -> dict[str, Any] | None:
        """Return the manifest of a cached file (``None`` if absent)."""
        return read_manifest(self.path(relpath))

    def check_writable(self) -> Path:
        """Raise a clear :class:`FetchError` when the cache folder cannot be written."""
        return check_writable(self.root)

    def fetch(
        self,
        url: str,
        relpath: str | Path,
        *,
        validate: Callable[[Path], None] | None = None,
        info: Mapping[str, Any] | None = None,
        secrets: Iterable[str] = (),
    ) -> Path:
        """Return the cached file for ``url`` at ``relpath``, downloading it if needed.

        Raises
        ------
        OfflineMissingError
            Offline and not cached (also recorded in :attr:`missing`).
        FetchError
            The download failed (see :func:`covgap.sources.http.download`).

        """
        p = self.path(relpath)
        if self.has(relpath):
            return p
        secrets = list(secrets)
        if self.offline:
            shown = redact(url, secrets)
            item = MissingFile(p, shown, str((info or {}).get("source", "")))
            if item not in self.missing:
                self.missing.append(item)
            raise OfflineMissingError(
                f"{p} is not in the cache and --offline forbids downloading it (from {shown}). "
                "Fix: run `covgap fetch` once with network access, or copy the file and its manifest there."
            )
        download(url, p, options=self.http, validate=validate, info=info, secrets=secrets)
        return p

    def write_derived(
        self,
        relpath: str | Path,
        *,
        make: Callable[[Path], None],
        derived_from: Iterable[str | Path] = (),
        info: Mapping[str, Any] | None = None,
    ) -> Path:
        """Build a derived file (mosaic, extracted member, sites table) atomically with a manifest.

        ``make(tmp_path)`` writes the file; it is renamed into place only when ``make``
        returns. The manifest lists the manifests of ``derived_from`` (cached paths).
        """
        p = self.path(relpath)
        check_writable(p.parent)
        tmp = p.with_name(p.name + ".partial")
        try:
            make(tmp)
        except BaseException:
            if tmp.exists():
                tmp.unlink()
            raise
        parents = []
        for d in derived_from:
            dp = Path(d)
            man = read_manifest(dp) or {}
            parents.append(
                {
                    "file": dp.name,
                    "sha256": man.get("sha256"),
                    "url": man.get("url"),
                    "release": man.get("release"),
                }
            )
        manifest = {
            "file": p.name,
            "bytes": tmp.stat().st_size,
            "sha256": sha256_file(tmp),
            "made_utc": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
            "derived_from": parents,
            **dict(info or {}),
        }
        write_manifest(p, manifest)
        tmp.replace(p)
        return p

    def missing_report(self) -> str:
        """Human-readable list of the files an offline run lacked (empty string if none)."""
        if not self.missing:
            return ""
        lines = [f"{len(self.missing)} file(s) missing from the cache {self.root}:"]
        lines += [f"  - {m}" for m in self.missing]
        return "\n".join(lines)

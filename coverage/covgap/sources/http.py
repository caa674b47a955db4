"""Downloading one file safely: resume, retries, verification, manifest.

:func:`download` writes to ``<name>.partial``, resumes it with an HTTP ``Range`` request
after a dropped connection, retries server errors and network failures with exponential
backoff, checks the size against ``Content-Length`` / ``Content-Range``, runs a caller's
validator (magic bytes, "opens with rasterio", …), and only then renames the file to its
final name next to a ``<name>.manifest.json`` (URL, release, date fetched, bytes, sha256,
licence, attribution). A file under its final name is therefore always complete and
verified; a failure never leaves a corrupt file there. An interrupted download leaves only
``<name>.partial`` (+ ``.partial.json``), which the next call resumes and which no reader
ever opens as data. A file that fails verification is deleted.

Only the standard library (:mod:`urllib`) is used for HTTP.

Secrets (the OpenCelliD token) are passed as ``secrets=`` and are replaced by ``***`` in
every message, manifest and log line (:func:`redact`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import FetchError

__all__ = [
    "HttpOptions",
    "download",
    "redact",
    "manifest_path",
    "read_manifest",
    "write_manifest",
    "sha256_file",
    "check_writable",
]

_SECRET_PARAMS = {"token", "key", "apikey", "api_key", "access_token"}
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def _default_user_agent() -> str:
    from .. import __version__

    return f"covgap/{__version__} (+https://github.com/covgap; open-source coverage-gap analysis)"


@dataclass(frozen=True)
class HttpOptions:
    """Network behaviour of :func:`download` (all keyword-only, all with safe defaults).

    Parameters
    ----------
    timeout_s : float
        Socket timeout per request (connect and each read).
    retries : int
        Extra attempts after the first, for network errors, dropped connections and the
        statuses 408, 425, 429, 500, 502, 503, 504. 404/401/403 are never retried.
    backoff_s, backoff_factor, max_backoff_s : float
        Wait ``backoff_s * backoff_factor**k`` (capped) before retry ``k``.
    chunk_bytes : int
        Read size; also the granularity of the progress bar.
    progress : bool
        Show a tqdm progress bar per file (on stderr).

    """

    timeout_s: float = 60.0
    retries: int = 5
    backoff_s: float = 2.0
    backoff_factor: float = 2.0
    max_backoff_s: float = 120.0
    chunk_bytes: int = 1 << 20
    progress: bool = True
    user_agent: str = field(default_factory=_default_user_agent)

    def wait_s(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return min(self.max_backoff_s, self.backoff_s * self.backoff_factor**attempt)


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """Replace secrets, and the values of ``token=``/``key=`` query parameters, by ``***``.

    Examples
    --------
    >>> redact("https://x.org/d?token=pk.abc&type=mcc&file=452.csv.gz")
    'https://x.org/d?token=***&type=mcc&file=452.csv.gz'
    >>> redact("bad token pk.abc", ["pk.abc"])
    'bad token ***'

    """
    s = str(text)
    for sec in secrets:
        if sec:
            s = s.replace(sec, "***")
    return re.sub(r"(?i)\b(" + "|".join(sorted(_SECRET_PARAMS)) + r")=([^&\s'\"]+)", r"\1=***", s)


def _redact_url(url: str, secrets: Iterable[str]) -> str:
    parts = urlsplit(url)
    if parts.query:
        q = [
            (k, "***" if k.lower() in _SECRET_PARAMS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        url = urlunsplit(parts._replace(query=urlencode(q, safe="*/")))
    return redact(url, secrets)


def manifest_path(path: str | Path) -> Path:
    """Where the manifest of ``path`` lives: ``<name>.manifest.json`` beside it."""
    path = Path(path)
    return path.with_name(path.name + ".manifest.json")


def read_manifest(path: str | Path) -> dict[str, Any] | None:
    """Return the manifest of a cached file, or ``None`` when there is none (or it is unreadable)."""
    mp = manifest_path(path)
    try:
        return json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_manifest(path: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest`` beside ``path`` atomically (temporary name, then rename)."""
    mp = manifest_path(path)
    tmp = mp.with_name(mp.name + ".tmp")
    tmp.write_text(
        json.dumps(dict(manifest), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    os.replace(tmp, mp)
    return mp


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and prove a file can be written there.

    Raises :class:`~covgap.errors.FetchError` naming the folder and the fix.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".covgap-write-test-{os.getpid()}-{threading.get_ident()}"  # unique per thread
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise FetchError(
            f"cache folder {folder} is not writable ({exc.strerror or exc}). Fix: choose a writable "
            "folder (`covgap fetch CONFIG --cache-dir DIR` or `cache_dir` in [sources]), or fix its permissions."
        ) from exc
    return folder


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def _now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class _State:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    total: int | None = None


def _load_state(p: Path) -> _State | None:
    try:
        return _State(**json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _save_state(p: Path, st: _State) -> None:
    p.write_text(json.dumps(st.__dict__), encoding="utf-8")


def _unlink(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def download(
    url: str,
    dest: str | Path,
    *,
    options: HttpOptions | None = None,
    validate: Callable[[Path], None] | None = None,
    info: Mapping[str, Any] | None = None,
    secrets: Iterable[str] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Download ``url`` to ``dest`` (resumable, retried, verified) and write its manifest.

    Parameters
    ----------
    url : str
        Source URL (may contain a secret; it is redacted everywhere it is shown or stored).
    dest : path
        Final file name. Its folder is created.
    options : HttpOptions
        Timeouts, retries, backoff, progress bar.
    validate : callable, optional
        ``validate(path_of_complete_partial_file)`` raises :class:`~covgap.errors.FetchError`
        when the file is not what was expected (wrong format, error page, bad-token answer).
        The file is then deleted and the error re-raised (not retried: the same request
        would deliver the same wrong file).
    info : mapping, optional
        Extra manifest fields: ``source``, ``release``, ``licence``, ``attribution`` …
    secrets : iterable of str
        Strings never to show or store (replaced by ``***``).
    sleep : callable
        Called with the seconds to wait between attempts (tests pass a no-op).

    Returns
    -------
    dict
        The manifest that was written beside ``dest``.

    Raises
    ------
    FetchError
        Not found (404), access refused (401/403), retries exhausted, size mismatch after
        retries, validation failure, or an unwritable destination.

    """
    opts = options or HttpOptions()
    secrets = [s for s in secrets if s]
    dest = Path(dest)
    shown = _redact_url(url, secrets)
    check_writable(dest.parent)
    part = dest.with_name(dest.name + ".partial")
    state_path = dest.with_name(dest.name + ".partial.json")

    state = _load_state(state_path)
    if state is None or state.url != shown:
        _unlink(part, state_path)
        state = _State(url=shown)

    attempts = 0
    resumed = False
    last_error = "no attempt made"
    for attempt in range(opts.retries + 1):
        attempts = attempt + 1
        if attempt:
            sleep(opts.wait_s(attempt - 1))
        have = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": opts.user_agent, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            if state.etag:
                headers["If-Range"] = state.etag
            elif state.last_modified:
                headers["If-Range"] = state.last_modified
        req = urllib.request.Request(url, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=opts.timeout_s)
        except urllib.error.HTTPError as exc:
            code = exc.code
            body = _peek(exc)
            exc.close()
            if code == 416 and have:
                m = re.match(r"bytes\s+\*/(\d+)", exc.headers.get("Content-Range", "") or "")
                if m and int(m.group(1)) == have:
                    state.total = have
                    break  # the partial file is already complete
                _unlink(part)
                last_error = "HTTP 416 (range not satisfiable); restarting from byte 0"
                continue
            if code in _RETRY_STATUS:
                last_error = f"HTTP {code} {exc.reason}"
                continue
            _unlink(part, state_path)
            if code == 404:
                raise FetchError(
                    f"{shown}: not found (HTTP 404). The file may have moved or not exist for these "
                    "parameters (country, year, release, tile). Fix: check the parameters; the URL patterns "
                    "are in covgap/sources/catalog.py and docs/data-sources.md."
                ) from None
            if code in (401, 403):
                raise FetchError(
                    f"{shown}: access refused (HTTP {code}): {redact(body, secrets)[:200]!r}. Fix: check the "
                    "token or credentials for this source."
                ) from None
            raise FetchError(
                f"{shown}: HTTP {code} {exc.reason}: {redact(body, secrets)[:200]!r}."
            ) from None
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
        ) as exc:
            reason = getattr(exc, "reason", exc)
            last_error = f"network error: {redact(reason, secrets)}"
            continue

        with resp:
            status = resp.status
            hdr = resp.headers
            if status == 206 and have:
                m = _CONTENT_RANGE.match(hdr.get("Content-Range", "") or "")
                if not m or int(m.group(1)) != have:
                    _unlink(part)
                    last_error = "server answered a different byte range; restarting from byte 0"
                    continue
                total = int(m.group(3)) if m.group(3) != "*" else None
                mode = "ab"
                resumed = True
            else:
                if have and status == 200:
                    resumed = False  # server ignored Range (or the file changed): start again
                have = 0
                mode = "wb"
                cl = hdr.get("Content-Length")
                total = int(cl) if cl and cl.isdigit() else None
            state.total = total
            state.etag = hdr.get("ETag") or state.etag
            state.last_modified = hdr.get("Last-Modified") or state.last_modified
            state.content_type = hdr.get("Content-Type") or state.content_type
            try:
                _save_state(state_path, state)
                out = open(part, mode)
            except OSError as exc:
                raise FetchError(
                    f"cannot write {part} ({exc.strerror or exc}). Fix: choose a writable cache folder "
                    "or free disk space."
                ) from exc
            bar = _progress(dest.name, total, have, opts)
            try:
                with out:
                    while True:
                        chunk = resp.read(opts.chunk_bytes)
                        if not chunk:
                            break
                        out.write(chunk)
                        bar.update(len(chunk))
            except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
                last_error = f"connection dropped during transfer: {redact(exc, secrets) or type(exc).__name__}"
                continue
            except OSError as exc:
                if exc.errno is not None and exc.errno in (28, 13, 30):  # ENOSPC, EACCES, EROFS
                    raise FetchError(
                        f"cannot write {part} ({exc.strerror}). Fix: free disk space or "
                        "choose another cache folder."
                    ) from exc
                last_error = f"connection dropped during transfer: {exc}"
                continue
            finally:
                bar.close()
        size = part.stat().st_size
        if total is not None and size < total:
            last_error = f"connection dropped after {size} of {total} bytes"
            continue
        if total is not None and size > total:
            _unlink(part)
            last_error = f"received {size} bytes but the server announced {total}; restarting"
            continue
        break
    else:
        raise FetchError(
            f"{shown}: gave up after {attempts} attempt(s); last error: {last_error}. "
            f"{'The partial file ' + part.name + ' is kept and will be resumed next time. ' if part.exists() else ''}"
            "Fix: check the network (or --offline to use the cache only) and run `covgap fetch` again."
        )

    if not part.exists():  # 416 with an already complete file, but the partial vanished
        raise FetchError(f"{shown}: download finished but {part} is missing. Fix: run again.")
    if validate is not None:
        try:
            validate(part)
        except FetchError as exc:
            _unlink(part, state_path)
            raise FetchError(redact(f"{shown}: {exc}", secrets)) from None
        except Exception as exc:  # noqa: BLE001 - any validator crash means "not the expected file"
            _unlink(part, state_path)
            raise FetchError(
                redact(f"{shown}: the downloaded file is not valid: {exc}", secrets)
            ) from None

    manifest: dict[str, Any] = {
        "url": shown,
        "file": dest.name,
        "bytes": part.stat().st_size,
        "sha256": sha256_file(part),
        "fetched_utc": _now_utc(),
        "attempts": attempts,
        "resumed": resumed,
        "etag": state.etag,
        "last_modified": state.last_modified,
        "content_type": state.content_type,
    }
    for k, v in (info or {}).items():
        manifest[k] = (
            json.loads(redact(json.dumps(v), secrets)) if isinstance(v, str | dict | list) else v
        )
    write_manifest(dest, manifest)
    os.replace(part, dest)
    _unlink(state_path)
    return manifest


def _peek(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(512).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001
        return ""


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(name: str, total: int | None, initial: int, opts: HttpOptions):
    if not opts.progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=name,
        leave=False,
        dynamic_ncols=True,
    )

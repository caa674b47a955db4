"""Checks that a downloaded file is what was asked for (not an error page or a cut-off file).

Each validator takes the path of a complete download and raises
:class:`~covgap.errors.FetchError` saying what was expected and what arrived. They are
passed to :func:`covgap.sources.http.download` as ``validate=``.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import FetchError

__all__ = ["describe_start", "geotiff", "zip_with", "gzip_csv", "json_document", "overpass_answer", "TIFF_MAGIC"]

#: Magic bytes of TIFF and BigTIFF, little- and big-endian.
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def describe_start(path: Path, n: int = 120) -> str:
    """Describe briefly what a file starts with (for error messages)."""
    with open(path, "rb") as f:
        head = f.read(n)
    text = head.decode("utf-8", "replace")
    low = text.lower()
    if low.lstrip().startswith(("<!doctype html", "<html")):
        kind = "an HTML page"
    elif low.lstrip().startswith(("{", "[")):
        kind = "a JSON document"
    elif head[:2] == b"\x1f\x8b":
        kind = "gzip data"
    elif head[:4] == b"PK\x03\x04":
        kind = "a zip archive"
    elif head[:4] in TIFF_MAGIC:
        kind = "a TIFF"
    else:
        kind = "data"
    printable = "".join(c if c.isprintable() else "." for c in text[:80])
    return f"{kind} starting {printable!r} ({path.stat().st_size} bytes)"


def geotiff(*, require_crs: bool = True, min_size_px: int = 1) -> Callable[[Path], None]:
    """Check for a GeoTIFF (magic bytes) that opens with rasterio, has a CRS and data.

    Opening with rasterio also catches truncated files whose header is intact: reading
    the last block fails.
    """

    def check(path: Path) -> None:
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic not in TIFF_MAGIC:
            raise FetchError(f"expected a GeoTIFF, got {describe_start(path)}.")
        import rasterio
        from rasterio.errors import RasterioIOError
        from rasterio.windows import Window

        try:
            with rasterio.open(path) as ds:
                if require_crs and ds.crs is None:
                    raise FetchError("the GeoTIFF has no CRS; covgap never guesses one.")
                if ds.width < min_size_px or ds.height < min_size_px:
                    raise FetchError(
                        f"the GeoTIFF is {ds.width}×{ds.height} pixels; expected at least {min_size_px}."
                    )
                # read the last row: a truncated file fails here
                ds.read(1, window=Window(0, ds.height - 1, ds.width, 1))
        except RasterioIOError as exc:
            raise FetchError(
                f"expected a readable GeoTIFF, but it cannot be read ({exc}); the file is "
                "probably truncated or corrupt."
            ) from None

    return check


def zip_with(suffixes: Iterable[str]) -> Callable[[Path], None]:
    """Check for a readable zip archive with a member ending in one of ``suffixes``.

    ``suffixes`` are alternatives: the archive must contain a member ending in any of them.
    """
    wanted = tuple(s.lower() for s in suffixes)

    def check(path: Path) -> None:
        if not zipfile.is_zipfile(path):
            raise FetchError(f"expected a zip archive, got {describe_start(path)}.")
        try:
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise FetchError(f"the zip archive is damaged ({exc}).") from None
        if bad is not None:
            raise FetchError(f"the zip archive is damaged (member {bad!r} fails its CRC check).")
        if wanted and not any(n.lower().endswith(wanted) for n in names):
            raise FetchError(
                f"the zip archive has no member ending in {list(wanted)}; it holds {names[:10]}."
            )

    return check


def gzip_csv(
    *, min_columns: int = 1, on_text: Callable[[str], None] | None = None
) -> Callable[[Path], None]:
    """Check for gzip data that decompresses completely and starts with a CSV line.

    ``on_text(body)`` is called when the file is *not* gzip but readable text (an API error
    answer delivered with status 200); it should raise a specific :class:`FetchError`.
    """

    def check(path: Path) -> None:
        with open(path, "rb") as f:
            head = f.read(2)
        if head != b"\x1f\x8b":
            if on_text is not None:
                with open(path, "rb") as f:
                    on_text(f.read(4096).decode("utf-8", "replace"))
            raise FetchError(f"expected gzip-compressed CSV, got {describe_start(path)}.")
        try:
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as g:
                first = g.readline()
                while g.read(1 << 20):
                    pass
        except (OSError, EOFError) as exc:
            raise FetchError(f"the gzip file is truncated or damaged ({exc}).") from None
        if first.count(",") + 1 < min_columns:
            raise FetchError(
                f"expected CSV with ≥ {min_columns} columns; first line is {first[:120]!r}."
            )

    return check


def json_document(check_content: Callable[[object], None] | None = None) -> Callable[[Path], None]:
    """Check for a JSON document (optionally checked further by ``check_content(obj)``)."""

    def check(path: Path) -> None:
        try:
            obj = json.loads(Path(path).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise FetchError(f"expected a JSON answer, got {describe_start(path)}.") from None
        if check_content is not None:
            check_content(obj)

    return check


def overpass_answer(fix: str) -> Callable[[Path], None]:
    """Check for an Overpass API JSON answer: an object with ``elements``, and no error in its
    ``remark`` (Overpass reports timeouts and memory limits there, with HTTP 200); ``fix`` ends the
    error message (what the user can change)."""

    def check(obj: object) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("elements"), list):
            raise FetchError("expected an Overpass JSON answer with 'elements'.")
        remark = str(obj.get("remark", ""))
        if "error" in remark.lower():
            raise FetchError(f"Overpass answered with an error: {remark[:200]!r}. Fix: {fix}.")

    return json_document(check)

"""The tiled run's on-disk store and raster sources: hashes, atomic writes, raw array files.

Results live in ``workdir`` as one raw binary file per piece and per tile; ``workdir`` also
holds the manifest (a hash of everything a tile depends on), so an interrupted run started
again with the same ``workdir`` skips every tile whose hash is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .plan import Tile

__all__ = ["RasterSource", "read_window", "window_source", "core_source", "hash_parts", "write_json",
           "save_arrays", "load_arrays", "read_json", "jsonable"]

#: A raster source for a tile: an array-like indexed ``[r0:r1, c0:c1]`` (ndarray, memmap) or a
#: callable ``source(r0, r1, c0, c1) -> ndarray`` (rows/cols of the full grid, end exclusive).
RasterSource = Any


def read_window(source: RasterSource, r0: int, r1: int, c0: int, c1: int) -> np.ndarray | None:
    """Rows ``r0:r1`` and columns ``c0:c1`` of a raster source (``None`` stays ``None``)."""
    if source is None:
        return None
    if callable(source) and not hasattr(source, "__getitem__"):
        arr = np.asarray(source(r0, r1, c0, c1))
    else:
        arr = np.array(source[r0:r1, c0:c1])
    if arr.shape != (r1 - r0, c1 - c0):
        raise InputError(f"raster source returned shape {arr.shape} for rows {r0}:{r1}, cols {c0}:{c1}; "
                         f"expected {(r1 - r0, c1 - c0)}. Fix: the source must cover the whole grid.")
    return arr



def _is_callable_source(source: RasterSource) -> bool:
    return callable(source) and not hasattr(source, "__getitem__")


def window_source(source: RasterSource, tile: Tile) -> RasterSource:
    """What a task gets for a raster: its window (arrays are sliced here, not shipped whole)."""
    if source is None or _is_callable_source(source):
        return source
    return _Offset(np.array(source[tile.wrow0:tile.wrow1, tile.wcol0:tile.wcol1]), tile.wrow0, tile.wcol0)


def core_source(source: RasterSource, tile: Tile) -> RasterSource:
    """What a task gets for a raster read on the tile core only."""
    if source is None or _is_callable_source(source):
        return source
    return _Offset(np.array(source[tile.row0:tile.row1, tile.col0:tile.col1]), tile.row0, tile.col0)


@dataclass
class _Offset:
    """A window of a raster addressed in full-grid rows/columns (picklable)."""

    data: np.ndarray
    row0: int
    col0: int

    def __call__(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        return self.data[r0 - self.row0:r1 - self.row0, c0 - self.col0:c1 - self.col0]


# =========================================================================== hashing + files
def hash_parts(*parts: Any) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str((p.dtype.str, p.shape)).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        elif isinstance(p, pd.DataFrame):
            h.update(str(list(p.columns)).encode())
            h.update(pd.util.hash_pandas_object(p, index=True).to_numpy().tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(obj, f, sort_keys=True)
    os.replace(tmp, path)


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write named arrays: 8-byte header length, JSON header, raw C-order blocks (no zip, no CRC).

    Integer arrays are stored in the narrowest type that holds their values (read back in
    their own type: exact).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    header, offset = {}, 0
    stored = {}
    for k, a in arrays.items():
        b = _narrow(a)
        header[k] = {"dtype": np.dtype(a.dtype).str, "stored": np.dtype(b.dtype).str, "shape": list(a.shape),
                     "offset": offset}
        stored[k] = b
        offset += int(b.nbytes)
    hb = json.dumps(header).encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for b in stored.values():
            f.write(memoryview(np.ascontiguousarray(b)).cast("B"))
    os.replace(tmp, path)


def _narrow(a: np.ndarray) -> np.ndarray:
    """The array in the smallest integer type that holds its values exactly (less to write)."""
    if a.dtype.kind not in "iu" or a.size == 0 or a.dtype.itemsize == 1:
        return a
    lo, hi = int(a.min()), int(a.max())
    for dt in (np.uint8, np.int8, np.uint16, np.int16):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max and np.dtype(dt).itemsize < a.dtype.itemsize:
            return a.astype(dt)
    return a


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read a file written by :func:`save_arrays` (into memory, not memory-mapped)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, h in header.items():
            dt = np.dtype(h.get("stored", h["dtype"]))
            count = int(np.prod(h["shape"], dtype=np.int64))
            f.seek(base + h["offset"])
            out[k] = np.fromfile(f, dtype=dt, count=count).reshape(h["shape"]).astype(np.dtype(h["dtype"]),
                                                                                       copy=False)
    return out


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None



def jsonable(obj: Any) -> Any:
    try:
        return json.loads(json.dumps(obj, default=_json_default))
    except (TypeError, ValueError):
        return {}


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist() if o.size <= 64 else f"<array {o.shape}>"
    if isinstance(o, np.generic):
        return o.item()
    return str(o)

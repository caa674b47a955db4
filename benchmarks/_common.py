"""Shared helpers of the benchmark scripts: arguments, timing, peak memory, result files.

Every benchmark script ``bN_name.py`` accepts ``--out DIR`` (default ``out/bench``) and
``--quick`` (small sizes for smoke tests), and writes ``DIR/bN_name.json`` with
:func:`write_result`:

``{"benchmark": "B2", "title": ..., "quick": bool, "params": {...},
"rows": [{"case": ..., "<metric>": ...}, ...], "targets": [{"target": ..., "value": ...,
"met": bool}], "notes": [...], "machine": {...}}``

``benchmarks/run_all.py`` runs every script and collects these files into
``results.json`` and ``results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_VNM = Path(os.environ.get("COVGAP_SHARED_DATA", ROOT.parent / "shared" / "data" / "vnm"))


def parser(description: str) -> argparse.ArgumentParser:
    """Argument parser with the common ``--out`` and ``--quick`` options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=str(ROOT / "out" / "bench"), help="output folder (default out/bench)")
    p.add_argument("--quick", action="store_true", help="small sizes (smoke test), figures not meaningful")
    return p


def timed(fn: Callable[[], Any], *, repeat: int = 1) -> tuple[list[float], Any]:
    """Run ``fn`` ``repeat`` times; return (wall seconds per run, last result)."""
    times, out = [], None
    for _ in range(max(int(repeat), 1)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def summary(times: list[float]) -> dict[str, float]:
    """min / median / max of run times (seconds)."""
    return {"min_s": min(times), "median_s": statistics.median(times), "max_s": max(times), "runs": len(times)}


def vm_hwm_bytes(pid: int | str = "self") -> int:
    """Peak resident set size (VmHWM) of a process, bytes (0 where /proc is unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 if pid == "self" else 0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    model, vec = cpu_model_and_vectors()
    return {"cpus": os.cpu_count(), "cpu_model": model, "vector_extensions": vec, "memory_bytes": mem,
            "python": sys.version.split()[0], "platform": platform.platform(), "load_average_at_start": load,
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


#: SIMD extensions that change kernel timings (the same kernel measured 1.0x GDAL with AVX-512 and
#: 2.0x without), in the order /proc/cpuinfo's flags name them.
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                "amx_tile", "asimd", "sve")


def cpu_model_and_vectors() -> tuple[str | None, list[str]]:
    """The CPU's model name and which of :data:`VECTOR_FLAGS` it has (from ``/proc/cpuinfo``;
    ``(None, [])`` where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None, []
    model, flags = None, set()
    for line in text.splitlines():
        key, _, val = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model name", "CPU part") and model is None:
            model = val.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(val.split())
    return model, [f for f in VECTOR_FLAGS if f in flags]


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` or None."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def write_result(out_dir: str | Path, name: str, record: dict[str, Any], *, script: str | None = None) -> Path:
    """Write ``out_dir/name.json`` (adds machine info and the script, default ``name.py``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {**record, "machine": machine(), "script": f"benchmarks/{script or name}.py"}
    path = out / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, default=_default), encoding="utf-8")
    return path


def _default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(o)


def fmt(v: Any) -> str:
    """Short human formatting for tables."""
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 0.01:
            return f"{v:.3f}"
        return f"{v:.2e}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


# --------------------------------------------------------------------------- synthetic inputs
class SyntheticDEM:
    """Deterministic SYNTHETIC terrain (metres) on a lon/lat grid, computed per window.

    A sum of separable ridges (``A_k cos(g_k lat + ψ_k) sin(f_k lon + φ_k)``) with
    wavelengths from about 110 km down to 1.5 km and amplitudes ∝ wavelength, offset and
    clipped to 0–2,800 m: valleys, ridges and plains that block radio paths. The value of a
    cell depends only on its position, so overlapping windows agree (picklable: workers
    compute their own windows). Call ``dem(r0, r1, c0, c1)`` with full-grid rows/columns.
    """

    def __init__(self, transform, *, seed: int = 7):
        import numpy as np

        self.t = tuple(transform)[:6]
        rng = np.random.default_rng(seed)
        cycles_per_deg = np.array([1.0, 2.3, 5.1, 11.0, 23.0, 47.0, 71.0])
        self.f = 2 * np.pi * cycles_per_deg * rng.uniform(0.8, 1.25, cycles_per_deg.size)
        self.g = 2 * np.pi * cycles_per_deg * rng.uniform(0.8, 1.25, cycles_per_deg.size)
        self.amp = 900.0 / cycles_per_deg ** 0.9
        self.phi = rng.uniform(0, 2 * np.pi, (2, cycles_per_deg.size))

    def __call__(self, r0: int, r1: int, c0: int, c1: int):
        import numpy as np

        a, _, c, _, e, f = self.t
        lon = c + a * (np.arange(c0, c1) + 0.5)
        lat = f + e * (np.arange(r0, r1) + 0.5)
        z = np.full((r1 - r0, c1 - c0), 400.0)
        for k in range(self.f.size):
            z += self.amp[k] * np.outer(np.cos(self.g[k] * lat + self.phi[0, k]), np.sin(self.f[k] * lon + self.phi[1, k]))
        return np.clip(z, 0.0, 2800.0).astype(np.float32)


def synthetic_sites(n: int, *, lon, lat, seed: int = 1, radius_km=None):
    """A validated SYNTHETIC sites table: ``n`` transmitters at the given candidate points.

    ``lon``/``lat`` are candidate positions (drawn without replacement when there are more);
    technologies 30 % 2G, 20 % 3G, 50 % 4G; four operators; antenna heights 20–45 m.
    """
    import numpy as np
    import pandas as pd

    from covgap.sites import validate_sites

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(lon), size=n, replace=len(lon) < n)
    df = pd.DataFrame({
        "site_id": [f"S{i:06d}" for i in range(n)],
        "operator": rng.choice(["Viettel", "VinaPhone", "MobiFone", "Vietnamobile"], n, p=[0.4, 0.25, 0.25, 0.1]),
        "technology": rng.choice(["2G", "3G", "4G"], n, p=[0.3, 0.2, 0.5]),
        "lon": np.asarray(lon)[idx] + rng.uniform(-1e-4, 1e-4, n),
        "lat": np.asarray(lat)[idx] + rng.uniform(-1e-4, 1e-4, n),
        "antenna_height_m": rng.uniform(20.0, 45.0, n).round(1),
    })
    if radius_km is not None:
        df["radius_km"] = radius_km(df)
    return validate_sites(df)[0]


def link_budget_radius_km(sites, *, cap_km: float = 20.0):
    """Per-transmitter radius (km) where the Hata base loss uses up the link budget.

    Uses covgap's technology link-budget defaults and Okumura–Hata / COST-231 coefficients
    (rural), capped at ``cap_km`` (the Hata validity limit): the radii the Hata and terrain
    models compute footprints to.
    """
    import numpy as np

    from covgap.models.linkbudget import resolve_link_budget, technology_defaults
    from covgap.models.pathloss import FREE_SPACE_CONSTANT_DB, hata_coefficients

    lb = resolve_link_budget(sites, defaults=technology_defaults(None, None))
    f, hb = lb.frequency_mhz, lb.antenna_height_m
    fa, fb = hata_coefficients(f, hb, 1.5, environment="rural", model="auto")
    budget = lb.eirp_dbm - lb.threshold_dbm
    d_base = 10.0 ** ((budget - np.broadcast_to(fa, f.shape)) / np.broadcast_to(fb, f.shape))
    d_fs = 10.0 ** ((budget - (FREE_SPACE_CONSTANT_DB + 20 * np.log10(f))) / 20.0)
    return np.minimum(np.minimum(d_base, d_fs), cap_km)


class UnitLabels:
    """Unit labels (``k + 1`` inside unit ``k``, 0 outside; cell centres) per window, picklable.

    Rasterises the (few, simplified) unit polygons on each requested window of the grid
    with ``transform``; remembers the last window (population and zonal sums ask twice).
    """

    def __init__(self, geometries, transform):
        import shapely

        self.wkb = [shapely.to_wkb(g) for g in geometries]
        self.t = tuple(transform)[:6]
        self._geoms = None
        self._last = None

    def __getstate__(self):
        return {"wkb": self.wkb, "t": self.t, "_geoms": None, "_last": None}

    def __call__(self, r0: int, r1: int, c0: int, c1: int):
        import numpy as np
        import shapely
        from affine import Affine
        from rasterio import features

        if self._last is not None and self._last[0] == (r0, r1, c0, c1):
            return self._last[1]
        if self._geoms is None:
            self._geoms = [shapely.from_wkb(w) for w in self.wkb]
        a, _, c, _, e, f = self.t
        tr = Affine(a, 0.0, c + a * c0, 0.0, e, f + e * r0)
        w, n = c + a * c0, f + e * r0
        box = shapely.box(w, f + e * r1, c + a * c1, n)
        shapes = [(g, k + 1) for k, g in enumerate(self._geoms) if g.intersects(box)]
        if shapes:
            lab = features.rasterize(shapes, out_shape=(r1 - r0, c1 - c0), transform=tr, fill=0, dtype="int16")
        else:
            lab = np.zeros((r1 - r0, c1 - c0), dtype=np.int16)
        self._last = ((r0, r1, c0, c1), lab)
        return lab


class SyntheticPopulation:
    """SYNTHETIC people per cell on land (label > 0), deterministic per position, picklable.

    A smooth density surface (separable waves, e^(±2.5)) times hashed exponential noise;
    ``scale`` people per cell on average before the surface.
    """

    def __init__(self, labels: UnitLabels, *, scale: float = 2.0):
        self.labels = labels
        self.t = labels.t
        self.scale = scale

    def __call__(self, r0: int, r1: int, c0: int, c1: int):
        import numpy as np

        lab = self.labels(r0, r1, c0, c1)
        a, _, c, _, e, f = self.t
        lon = c + a * (np.arange(c0, c1) + 0.5)
        lat = f + e * (np.arange(r0, r1) + 0.5)
        dens = np.exp(np.add.outer(1.5 * np.cos(3.1 * lat), 1.0 * np.sin(4.3 * lon))
                      + np.outer(np.sin(17.0 * lat), np.cos(13.0 * lon)))
        rows = np.arange(r0, r1, dtype=np.uint64)[:, None]
        cols = np.arange(c0, c1, dtype=np.uint64)[None, :]
        h = rows * np.uint64(0x9E3779B97F4A7C15) ^ (cols * np.uint64(0xC2B2AE3D27D4EB4F))
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
        u = (h >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
        pop = self.scale * dens * -np.log1p(-u * 0.999999)
        return np.where(lab > 0, pop, 0.0).astype(np.float32)

"""Tiles on dask.distributed: a 2-worker LocalCluster gives the single-process result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'covgap[scale]')")

from covgap.tiling.dask import client_threads, compute_coverage_distributed, dask_client  # noqa: E402
from covgap.errors import ConfigError, CovgapError  # noqa: E402
from covgap.grid import Grid  # noqa: E402
from covgap.models.radius import RadiusModel  # noqa: E402
from covgap.sites import validate_sites  # noqa: E402
from covgap.tiling import compute_coverage_tiled, tiled_zonal_sums  # noqa: E402

GRID = Grid.from_bounds(105.0, 21.0, 105.2, 21.15, res=(3 / 3600, 3 / 3600), crs="EPSG:4326")  # 180 x 240


def _sites():
    rng = np.random.default_rng(21)
    n = 60
    df = pd.DataFrame({"site_id": [f"s{i}" for i in range(n)], "operator": rng.choice(["A", "B"], n),
                       "technology": rng.choice(["2G", "4G"], n), "lon": rng.uniform(104.99, 105.21, n),
                       "lat": rng.uniform(20.99, 21.16, n)})
    return validate_sites(df)[0]


def test_local_cluster_two_workers_identical(tmp_path):
    sites = _sites()
    model = RadiusModel(radius_km={"2G": 2.0, "4G": 1.0})
    single = compute_coverage_tiled(GRID, sites, model, tile_size=50, workdir=tmp_path / "single")
    pop = np.random.default_rng(1).gamma(1.0, 1.0, GRID.shape)
    labels = (np.arange(GRID.nx)[None, :] // 80 + np.zeros((GRID.ny, 1), int)).astype("i4")
    with dask_client(workers=2, processes=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2 and client_threads(client) == 2
        tiled = compute_coverage_tiled(GRID, sites, model, tile_size=50, workdir=tmp_path / "dask",
                                       executor=client, max_in_flight=3)
        sums_dask = tiled_zonal_sums(tiled, population=pop, labels=labels, n_units=3, executor=client)
    drop = lambda d: {k: v for k, v in d.items() if not k.endswith("_seconds")}  # noqa: E731
    assert drop(tiled.stats) == drop(single.stats)
    a, b = single.to_coverage(), tiled.to_coverage()
    for tech in a.technologies:
        for f in ("operator_bits", "n_sites", "serving_site"):
            assert np.array_equal(getattr(a.technologies[tech], f), getattr(b.technologies[tech], f))
    pd.testing.assert_frame_equal(sums_dask, tiled_zonal_sums(single, population=pop, labels=labels, n_units=3))
    full = model.compute(GRID, sites)
    assert np.array_equal(full.technologies["2G"].serving_site, b.technologies["2G"].serving_site)


def test_compute_coverage_distributed_resumes(tmp_path):
    sites = _sites()
    model = RadiusModel(radius_km={"2G": 2.0, "4G": 1.0})
    work = tmp_path / "w"
    first = compute_coverage_distributed(GRID, sites, model, workers=2, processes=False, tile_size=60, workdir=work)
    again = compute_coverage_distributed(GRID, sites, model, workers=1, processes=False, tile_size=60, workdir=work)
    assert first.stats["windows_computed"] > 0
    assert again.stats["windows_computed"] == 0 and again.stats["windows_skipped"] == first.stats["windows_computed"]


def test_client_errors():
    with pytest.raises(ConfigError, match="not both"):
        with dask_client(scheduler="tcp://127.0.0.1:1", workers=2):
            pass
    with pytest.raises(ConfigError, match="at least 1"):
        with dask_client(workers=0):
            pass
    with pytest.raises(CovgapError, match="cannot reach the Dask scheduler"):
        with dask_client(scheduler="tcp://127.0.0.1:9", timeout="1s"):
            pass


@pytest.mark.slow
def test_cli_run_on_local_cluster_matches_demo(demo_run, tmp_path):
    import json

    from covgap.cli import main

    analysis, out = demo_run
    tiles = tmp_path / "tiles"
    rc = main(["run", str(out / "covgap.toml"), "--out", str(tmp_path / "o"), "--model", "radius", "-q",
               "--workers", "2", "--tile-size", "64", "--tile-dir", str(tiles)])
    assert rc == 0
    got = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    want = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("population_total", "population_uncovered", "population_without_4G", "units"):
        assert got[key] == want[key], key
    assert got["model"]["tiling"]["tiles_with_sites"] > 1
    assert (tiles / "manifest.json").exists()

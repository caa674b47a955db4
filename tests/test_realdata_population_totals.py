"""Real data: WorldPop 2020 1 km adjusted to GSO's 2020 totals inside the 34 provinces of 2025 and the 63
former ones (geoBoundaries). Skips where ../shared/data/vnm is absent."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import shared_vnm

from covgap.io import read_population
from covgap.overlay import rasterize_units
from covgap.population import adjust_to_totals, snap_outside_cells
from covgap.vietnam import dissolve_former, match_former_provinces, population_2020

VNM = shared_vnm()
TIF = VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif"
pytestmark = pytest.mark.skipif(not TIF.exists(), reason=f"real data folder absent: {TIF} (see tests/conftest.py)")


def _units_2025() -> gpd.GeoDataFrame:
    files = sorted((VNM / "vn2025" / "json" / "geojson").glob("*/*.geojson"))
    gdf = gpd.GeoDataFrame(pd.concat([gpd.read_file(f)[["code", "name", "geometry"]] for f in files]),
                           geometry="geometry", crs="EPSG:4326")
    gdf["code"] = gdf["code"].astype(str).str.zfill(2)
    return gdf.dissolve(by="code", as_index=False, aggfunc="first", sort=True)


def _units_63() -> gpd.GeoDataFrame:
    former = dissolve_former(match_former_provinces(gpd.read_file(VNM / "geoBoundaries-VNM-ADM1.shp"),
                                                    name_field="shapeName"))
    return gpd.GeoDataFrame({"code": former["code"], "name": former["name_vi"]}, geometry=former.geometry.values,
                            crs="EPSG:4326")


@pytest.fixture(scope="module")
def worldpop():
    pop, grid, _ = read_population(TIF)
    return pop, grid


@pytest.mark.parametrize(("layer", "scheme"), [(_units_2025, "34"), (_units_63, "63")])
def test_adjusted_sums_equal_gso_totals_and_conserve(worldpop, layer, scheme):
    pop, grid = worldpop
    units = layer()
    totals = population_2020(scheme)
    assert len(units) == int(scheme)
    labels, _ = snap_outside_cells(rasterize_units(units, grid), pop, max_cells=2)
    adj, tab = adjust_to_totals(pop, labels, totals, codes=units["code"], names=units["name"])
    assert (tab["status"] == "adjusted").sum() == int(scheme) and not tab.attrs["codes_not_in_layer"]
    official = dict(zip(totals["code"], totals["population"].astype(float), strict=True))
    sums = np.bincount(labels.ravel(), weights=adj.ravel(), minlength=len(units) + 1)
    for k, code in enumerate(units["code"]):
        assert abs(sums[k + 1] - official[code]) <= 1e-6, code
    assert abs(sums[1:].sum() - 97_582_600) <= 1e-6 * len(units)
    # cells outside every unit: unchanged, bit for bit; the grid total moves only by the units adjusted
    assert np.array_equal(adj[labels == 0], pop[labels == 0]) and pop[labels == 0].sum() > 0
    moved = (tab["official_population"] - tab["grid_population"]).sum()
    assert adj.sum() == pytest.approx(pop.sum() + moved, rel=1e-12)
    # the figures: WorldPop before adjustment is off by up to ~50 % in a province (Lai Châu)
    before = (tab["grid_population"] / tab["official_population"] - 1).abs()
    assert before.max() > 0.4 and tab.set_index("code").loc["12", "factor"] < 0.75


def test_config_adjust_to_on_the_real_study_area(tmp_path, worldpop):
    """`[population] adjust_to` on tests/data/vnm_real.toml: the 63 GSO totals, then the 34 regrouped ones."""
    from conftest import ROOT

    from covgap.config import load_config
    from covgap.io import load_study_area
    from covgap.vietnam import population_2020_path

    pop, _ = worldpop
    real = (ROOT / "tests" / "data" / "vnm_real.toml").read_text(encoding="utf-8")
    real = real.replace("../../../shared/data/vnm/", str(VNM) + "/")
    for scheme, level in (("63", "former_province"), ("34", "province")):
        (tmp_path / "totals.csv").write_bytes(population_2020_path(scheme).read_bytes())
        (tmp_path / "vnm.toml").write_text(real.replace("vnm_towers_sample.csv",
                                                        str(ROOT / "tests" / "data" / "vnm_towers_sample.csv"))
                                           + f'\n[population]\nadjust_to = "totals.csv"\nlevel = "{level}"\n',
                                           encoding="utf-8")
        study = load_study_area(load_config(tmp_path / "vnm.toml"))
        note = study.notes["population_adjustment"]
        assert note["units_adjusted"] == int(scheme) and not note["units_without_total"]
        for lvl in study.admin:  # both levels sum to the GSO total: the 34 are unions of the 63
            sums = np.bincount(lvl.labels.ravel(), weights=study.population.ravel(), minlength=lvl.n_units + 1)
            assert abs(sums[1:].sum() - 97_582_600) <= 1e-6 * lvl.n_units
        lvl = study.level(level)
        outside = lvl.labels == 0
        assert np.array_equal(study.population[outside], pop[outside])

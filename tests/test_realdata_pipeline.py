"""The pipeline on the real Vietnam files in ../shared/data/vnm (skipped where that folder is absent)."""

import numpy as np
import pytest
from pyproj import Geod

from conftest import ROOT, shared_vnm
from covgap.config import load_config
from covgap.io import read_population
from covgap.pipeline import analyse_config

pytestmark = pytest.mark.realdata
VNM = shared_vnm()
if not (VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif").exists():
    pytest.skip(f"real Vietnam files not found in {VNM} (../shared/data/vnm beside the checkout, or set "
                "COVGAP_SHARED_DATA)", allow_module_level=True)


@pytest.fixture(scope="module")
def vnm():
    cfg = load_config(ROOT / "tests" / "data" / "vnm_real.toml")
    if cfg.population.path.resolve() != (VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif").resolve():
        pytest.skip("tests/data/vnm_real.toml points at ../shared beside the checkout; COVGAP_SHARED_DATA differs")
    return analyse_config(cfg, model_kind="radius")


def test_national_total_equals_raster_sum(vnm):
    raw, _, notes = read_population(VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif")
    s = vnm.summary()
    assert s["population_total"] == pytest.approx(raw.sum(), rel=1e-12)
    assert notes["nodata_cells"] > 0  # the sea and the neighbours are nodata = 0 people
    for level in ("province", "former_province"):
        t = vnm.units[level]
        total = t["population"].sum() + t.attrs["outside"]["population"]
        assert total == pytest.approx(raw.sum(), rel=1e-9)
        np.testing.assert_allclose(t["covered_any"] + t["uncovered"], t["population"], rtol=1e-12)
    # people beyond the boundary layer's outline are reported, and few
    assert 0 < s["population_outside_units"]["province"] < 0.01 * s["population_total"]


def test_63_former_provinces_dissolve_into_34_with_the_same_totals(vnm):
    p34, p63 = vnm.units["province"], vnm.units["former_province"]
    assert len(p63) == 63 and len(p34) == 34
    assert p34["population"].sum() == pytest.approx(p63["population"].sum(), rel=1e-12)
    assert p34["uncovered"].sum() == pytest.approx(p63["uncovered"].sum(), rel=1e-12)
    # every former province rolls up into its current one
    roll = p63.assign(parent=vnm.study.level("former_province").units["parent_code"].to_numpy()) \
        .groupby("parent")["population"].sum()
    np.testing.assert_allclose(roll.loc[p34["code"]].to_numpy(), p34["population"].to_numpy(), rtol=1e-12)
    names = set(p34["name"])
    assert {"Hà Nội", "Thành phố Hồ Chí Minh", "Huế", "Quảng Ninh", "Cao Bằng"} <= names or \
        {"Hà Nội", "Hồ Chí Minh", "Huế", "Quảng Ninh", "Cao Bằng"} <= names


def test_every_province_has_a_sane_population(vnm):
    p34, p63 = vnm.units["province"], vnm.units["former_province"]
    # 2020: smallest former province (Bắc Kạn) ≈ 0.3 M; largest current (TP HCM after merging) ≈ 14 M
    assert p63["population"].between(2.0e5, 1.2e7).all(), p63.sort_values("population")[["name", "population"]]
    assert p34["population"].between(4.0e5, 1.6e7).all(), p34.sort_values("population")[["name", "population"]]
    hn = p63.loc[p63["name"] == "Hà Nội", "population"].item()
    assert 7.0e6 < hn < 9.5e6


def test_land_border_arc_is_the_land_border_not_the_coast(vnm):
    line = vnm.study.border.geometry.iloc[0]
    km = Geod(ellps="WGS84").geometry_length(line) / 1000
    # official length 4,564 km (China 1,297; Laos 2,130; Cambodia 1,137); the generalised outline is shorter
    assert 3500 < km < 5000
    d = vnm.lenses.distance_to_border_km
    grid = vnm.study.grid

    def at(lon, lat):
        r, c = grid.rowcol(lon, lat)
        return d[r, c]

    assert at(103.97, 22.49) < 5       # Lào Cai, on the Chinese border
    assert at(105.85, 21.03) > 100     # Hà Nội
    assert at(108.22, 16.05) > 50      # Đà Nẵng, on the coast
    assert at(106.70, 10.78) > 40      # TP HCM


def test_border_belt_table(vnm):
    t = vnm.units["province"]
    belt = t[["code", "name", "border_belt_population", "border_belt_uncovered"]]
    assert (belt["border_belt_population"] > 0).sum() >= 15   # provinces along China, Laos, Cambodia
    assert (belt["border_belt_uncovered"] <= belt["border_belt_population"] + 1e-6).all()
    s = vnm.summary()["lenses"]["border_belt"]
    assert s["population"] == pytest.approx(belt["border_belt_population"].sum() + 0.0, rel=0.01)

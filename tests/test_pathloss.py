"""Path-loss formulas and link budgets: published values, validity ranges, defaults."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from covgap.errors import ConfigError, InputError, ModelRangeWarning
from covgap.models.linkbudget import (
    DEFAULT_LINK_BUDGETS,
    RECEIVER_HEIGHT_M,
    resolve_link_budget,
    sector_gain_db,
    technology_defaults,
)
from covgap.models.pathloss import (
    FREE_SPACE_CONSTANT_DB,
    check_validity,
    cost231_hata_loss_db,
    distance_for_loss_km,
    free_space_loss_db,
    fresnel_nu,
    hata_coefficients,
    hata_loss_db,
    knife_edge_loss_db,
    mobile_height_correction_db,
)


# --------------------------------------------------------------------------- published values
def test_free_space_matches_itu_r_p525():
    # ITU-R P.525-4 eq. (6): L = 32.4 + 20 log f(MHz) + 20 log d(km); the constant is 32.45
    assert FREE_SPACE_CONSTANT_DB == pytest.approx(32.45, abs=0.005)
    assert float(free_space_loss_db(1.0, 2600.0)) == pytest.approx(100.75, abs=0.01)
    assert float(free_space_loss_db(10.0, 900.0)) == pytest.approx(111.53, abs=0.01)
    # 6 dB per doubling of distance or frequency
    assert float(free_space_loss_db(2.0, 900.0) - free_space_loss_db(1.0, 900.0)) == pytest.approx(6.0206, abs=1e-4)


# Reference values of the ns-3 simulator's Okumura-Hata test suite
# (src/propagation/test/okumura-hata-test-suite.cc, computed there with Octave scripts):
# f = 869 MHz, d = 2 km, hb = 30 m, hm = 1 m, tolerance 0.1 dB.
@pytest.mark.parametrize("environment, expected", [
    ("metropolitan", 137.93),   # "original OH Urban Large city"
    ("urban", 137.88),          # "original OH Urban small city"
    ("suburban", 128.03),       # "original OH SubUrban"
])
def test_okumura_hata_matches_ns3_reference_values(environment, expected):
    got = float(hata_loss_db(2.0, 869.0, base_height_m=30.0, mobile_height_m=1.0, environment=environment))
    assert got == pytest.approx(expected, abs=0.1)


def test_cost231_matches_ns3_reference_value_and_warns_outside_range():
    # ns-3: f = 2114 MHz, d = 2 km, hb 30 m, hm 1 m, "COST231 OH Urban small city and suburban": 150.64 dB.
    # 2114 MHz is outside COST-231's 1500–2000 MHz, so covgap warns.
    with pytest.warns(ModelRangeWarning, match="frequency_mhz outside the cost231-hata validity range"):
        got = float(cost231_hata_loss_db(2.0, 2114.0, base_height_m=30.0, mobile_height_m=1.0, environment="urban"))
    assert got == pytest.approx(150.64, abs=0.1)


def test_hata_open_area_by_hand():
    # Hata (1980) eq. (8): open area = urban − 4.78 (log f)² + 18.33 log f − 40.94.
    f, hb, hm, d = 900.0, 50.0, 1.5, 10.0
    lf = math.log10(f)
    a_hm = (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)
    urban = 69.55 + 26.16 * lf - 13.82 * math.log10(hb) - a_hm + (44.9 - 6.55 * math.log10(hb)) * math.log10(d)
    rural = urban - 4.78 * lf**2 + 18.33 * lf - 40.94
    assert float(hata_loss_db(d, f, base_height_m=hb, mobile_height_m=hm, environment="rural")) == pytest.approx(rural)
    assert float(hata_loss_db(d, f, base_height_m=hb, mobile_height_m=hm, environment="open")) == pytest.approx(rural)
    assert 110 < rural < 130


def test_knife_edge_loss_values_from_p526():
    # ITU-R P.526-15 eq. (31); J(0) ≈ 6 dB (grazing), 0 for ν ≤ −0.78, ≈ 13.9 dB at ν = 1
    assert float(knife_edge_loss_db(0.0)) == pytest.approx(6.03, abs=0.01)
    assert float(knife_edge_loss_db(1.0)) == pytest.approx(13.92, abs=0.02)
    assert float(knife_edge_loss_db(-0.78)) == 0.0
    assert float(knife_edge_loss_db(-0.7)) > 0.0
    nu = np.linspace(-0.77, 10, 200)
    assert np.all(np.diff(knife_edge_loss_db(nu)) > 0)
    # ν for an edge 10 m above the path midway on 10 km at 900 MHz
    lam = 299_792_458.0 / 900e6
    assert float(fresnel_nu(10.0, 5000.0, 5000.0, lam)) == pytest.approx(10 * math.sqrt(2 * 10000 / (lam * 25e6)))


# --------------------------------------------------------------------------- forms and invariants
@given(f=st.floats(150, 2000), hb=st.floats(30, 200), hm=st.floats(1, 10), d=st.floats(1, 20),
       env=st.sampled_from(["urban", "suburban", "rural", "metropolitan"]))
def test_coefficients_reproduce_the_formulas(f, hb, hm, d, env):
    a, b = hata_coefficients(f, hb, hm, environment=env)
    fn = hata_loss_db if f <= 1500 else cost231_hata_loss_db
    ref = fn(d, f, base_height_m=hb, mobile_height_m=hm, environment=env)
    assert float(a + b * math.log10(d)) == pytest.approx(float(ref), abs=1e-9)
    assert float(distance_for_loss_km(ref, a, b)) == pytest.approx(d, rel=1e-9)


@given(f=st.floats(150, 2000), hb=st.floats(30, 199), d=st.floats(1, 19.9))
def test_loss_grows_with_distance_and_falls_with_antenna_height(f, hb, d):
    fn = hata_loss_db if f <= 1500 else cost231_hata_loss_db
    base = float(fn(d, f, base_height_m=hb))
    assert float(fn(d * 1.005, f, base_height_m=hb)) > base
    assert float(fn(d, f, base_height_m=hb + 1.0)) < base
    # environments are ordered: metropolitan ≥ urban > suburban > rural
    losses = [float(fn(d, f, base_height_m=hb, environment=e)) for e in ("urban", "suburban", "rural")]
    assert losses[0] > losses[1] > losses[2]
    assert float(fn(d, f, base_height_m=hb)) > float(free_space_loss_db(d, f))


def test_validity_warnings_are_specific_and_counted():
    with pytest.warns(ModelRangeWarning, match=r"2 value\(s\) of frequency_mhz"):
        hata_loss_db(5.0, np.array([100.0, 900.0, 1600.0]), base_height_m=30.0)
    with pytest.warns(ModelRangeWarning, match="base_height_m"):
        hata_loss_db(5.0, 900.0, base_height_m=15.0)
    with pytest.warns(ModelRangeWarning, match="distance_km"):
        cost231_hata_loss_db(40.0, 1800.0, base_height_m=30.0)
    assert check_validity("okumura-hata", frequency_mhz=900, base_height_m=30, mobile_height_m=1.5,
                          distance_km=5, warn=True) == []
    # inside the range: no warning (warnings are errors in this suite)
    hata_loss_db(5.0, 900.0, base_height_m=30.0)
    hata_loss_db(5.0, 100.0, base_height_m=30.0, check=False)


def test_bad_values_raise():
    with pytest.raises(InputError):
        free_space_loss_db(0.0, 900.0)
    with pytest.raises(InputError):
        hata_coefficients(-900.0, 30.0)
    with pytest.raises(InputError):
        hata_coefficients(900.0, 0.0)
    with pytest.raises(InputError, match="environment"):
        hata_coefficients(900.0, 30.0, environment="jungle")
    with pytest.raises(InputError):
        hata_coefficients(900.0, 30.0, model="itm")


# --------------------------------------------------------------------------- link budgets
def test_defaults_have_sources_and_sane_values():
    assert RECEIVER_HEIGHT_M == 1.5
    for tech, d in DEFAULT_LINK_BUDGETS.items():
        assert d.technology == tech and d.source
        assert -125 < d.threshold_dbm < -80
        assert 20 < d.eirp_dbm < 70
        assert 700 <= d.frequency_mhz <= 3800


def test_per_row_fallback_is_counted():
    df = pd.DataFrame({
        "site_id": ["a", "b", "c"], "technology": ["2G", "4G", "4G"],
        "eirp_dbm": [50.0, np.nan, np.nan], "frequency_mhz": [np.nan, 2600.0, np.nan],
        "antenna_height_m": [20.0, np.nan, 40.0], "azimuth_deg": [np.nan, 370.0, 120.0],
        "beamwidth_deg": [np.nan, np.nan, 90.0],
    })
    lb = resolve_link_budget(df)
    assert lb.eirp_dbm.tolist() == [50.0, 29.0, 29.0]
    assert lb.frequency_mhz.tolist() == [900.0, 2600.0, 1800.0]
    assert lb.antenna_height_m.tolist() == [20.0, 30.0, 40.0]
    assert lb.threshold_dbm.tolist() == [-95.0, -105.0, -105.0]
    assert np.isnan(lb.azimuth_deg[0]) and lb.azimuth_deg[1] == 10.0
    assert lb.beamwidth_deg[1:].tolist() == [65.0, 90.0]
    assert lb.defaulted == {"eirp_dbm": 2, "frequency_mhz": 2, "antenna_height_m": 1, "beamwidth_deg": 1}
    assert set(lb.as_dict()["defaults"]) == {"2G", "4G"}


def test_overrides_and_bad_link_budget_values():
    d = technology_defaults({"4G": {"eirp_dbm": 35}}, thresholds_dbm={"4G": -110, "2G": -100})
    assert d["4G"].eirp_dbm == 35.0 and d["4G"].threshold_dbm == -110.0 and d["2G"].threshold_dbm == -100.0
    with pytest.raises(ConfigError, match="unknown technology"):
        technology_defaults({"6G": {"eirp_dbm": 1}})
    with pytest.raises(ConfigError, match="unknown field"):
        technology_defaults({"4G": {"power": 1}})
    with pytest.raises(ConfigError, match="> 0"):
        technology_defaults({"4G": {"frequency_mhz": 0}})
    for col, val in (("antenna_height_m", 0.0), ("frequency_mhz", -5.0), ("beamwidth_deg", 400.0)):
        df = pd.DataFrame({"site_id": ["x"], "technology": ["4G"], col: [val], "azimuth_deg": [10.0]})
        with pytest.raises(InputError, match=col):
            resolve_link_budget(df)


def test_sector_pattern():
    assert float(sector_gain_db(0.0, 0.0)) == 0.0
    assert float(sector_gain_db(32.5, 0.0, 65.0)) == pytest.approx(-3.0)
    assert float(sector_gain_db(-32.5, 0.0, 65.0)) == pytest.approx(-3.0)
    assert float(sector_gain_db(350.0, 10.0, 65.0)) == pytest.approx(-12 * (20 / 65) ** 2)
    assert float(sector_gain_db(180.0, 0.0, 65.0)) == -20.0
    assert float(sector_gain_db(123.0, np.nan)) == 0.0


def test_cost231_metropolitan_uses_the_medium_city_mobile_correction():
    """COST 231 final report §4.4.1: COST-231 Hata has one a(hm), Hata's medium-small city form,
    and separates metropolitan centres from medium cities by C_m = 3 dB only; Okumura–Hata's
    large-city class uses Hata's large-city a(hm)."""
    # by hand at 1800 MHz (log10 1800 = 3.2552725): medium-small city (1.1 lf − 0.7) hm − (1.56 lf − 0.8)
    # = 0.04297 dB at 1.5 m and 24.52977 dB at 10 m; large city 3.2 (log10 11.75 hm)² − 4.97
    # = −0.00092 dB at 1.5 m and 8.74218 dB at 10 m (15.8 dB apart at 10 m)
    for hm, medium, large in ((1.5, 0.04297, -0.00092), (10.0, 24.52977, 8.74218)):
        assert float(mobile_height_correction_db(1800.0, hm)) == pytest.approx(medium, abs=1e-4)
        assert float(mobile_height_correction_db(1800.0, hm, large_city=True)) == pytest.approx(large, abs=1e-4)
        metro = float(cost231_hata_loss_db(5.0, 1800.0, base_height_m=30.0, mobile_height_m=hm,
                                           environment="metropolitan"))
        urban = float(cost231_hata_loss_db(5.0, 1800.0, base_height_m=30.0, mobile_height_m=hm,
                                           environment="urban"))
        assert metro - urban == pytest.approx(3.0, abs=1e-9)
        # the whole formula by hand: 46.3 + 33.9 lf − 13.82 log hb − a(hm) + (44.9 − 6.55 log hb) log d + 3
        lhb = math.log10(30.0)
        by_hand = 46.3 + 33.9 * math.log10(1800.0) - 13.82 * lhb - medium + (44.9 - 6.55 * lhb) * math.log10(5.0) + 3.0
        assert metro == pytest.approx(by_hand, abs=1e-4)
    # Okumura–Hata large city keeps the large-city a(hm): 900 MHz, hm 10 m
    lf = math.log10(900.0)
    a_med = (1.1 * lf - 0.7) * 10.0 - (1.56 * lf - 0.8)
    a_large = 3.2 * math.log10(117.5) ** 2 - 4.97
    got = float(hata_loss_db(5.0, 900.0, base_height_m=30.0, mobile_height_m=10.0, environment="metropolitan")
                - hata_loss_db(5.0, 900.0, base_height_m=30.0, mobile_height_m=10.0, environment="urban"))
    assert got == pytest.approx(a_med - a_large, abs=1e-9)

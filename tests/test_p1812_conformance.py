"""ITU-R P.1812-6 against Working Party 3K's validation data, plus hand-checkable unit tests.

The conformance tests are parametrised over every ``profiles/<name>.csv`` /
``results/<name>_<k>.csv`` pair in ``../shared/data/itu-p1812`` (or
``$COVGAP_P1812_DATA``), with the case name in the test id, so a folder holding more
profiles of the same format is tested without a change here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from _p1812_validation import INPUT_NAMES, RESULT_NAMES, find_cases

from covgap.errors import InputError
from covgap.models.p1812 import (
    CLUTTER_CATEGORIES,
    P1812_VERSION,
    inverse_normal_tail,
    location_std_db,
    transmission_loss,
    transmission_loss_details,
)

ROOT = Path(__file__).resolve().parents[1]


def _p1812_data() -> Path:
    env = os.environ.get("COVGAP_P1812_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "itu-p1812"


def _cases():
    folder = _p1812_data()
    if not (folder / "profiles").is_dir() or not (folder / "results").is_dir():
        return [pytest.param(None, id="no-data", marks=pytest.mark.skip(
            reason=f"ITU-R P.1812 validation data not found at {folder} (profiles/ and results/); "
                   "set COVGAP_P1812_DATA to the folder to run the conformance tests"))]
    cases = find_cases(folder)
    if not cases:
        skip = pytest.mark.skip(reason=f"no profile/result pairs in {folder}")
        return [pytest.param(None, id="no-cases", marks=skip)]
    return [pytest.param(c, id=c.name) for c in cases]


CASES = _cases()

# The results are printed with 10 significant digits.
REL_TOL = 1e-7
ABS_TOL = 1e-7


@pytest.mark.parametrize("case", CASES)
def test_reader_inputs_match_the_listed_inputs(case):
    """The reader turns profile columns into the same inputs the reference listed."""
    checked = 0
    for label, _ref, value in case.results:
        if label in INPUT_NAMES:
            got = float(INPUT_NAMES[label](case.inputs))
            assert math.isclose(got, value, rel_tol=REL_TOL, abs_tol=ABS_TOL), (label, got, value)
            checked += 1
    assert checked == len(INPUT_NAMES)


@pytest.mark.parametrize("case", CASES)
def test_every_intermediate_in_method_order(case):
    """Each listed quantity reproduced, checked in the order the method computes them."""
    det = transmission_loss_details(**case.inputs).as_dict()
    listed = [(label, ref, v) for label, ref, v in case.results if label not in INPUT_NAMES]
    unknown = [(label, ref) for label, ref, _ in listed if (label, ref) not in RESULT_NAMES]
    assert not unknown, f"{case.result_path.name}: quantities with no counterpart: {unknown}"
    assert len(listed) == len(RESULT_NAMES)
    for label, ref, want in listed:
        got = det[RESULT_NAMES[(label, ref)]]
        assert math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL), (
            f"{case.name}: first quantity off is {label} [{ref}]: covgap {got!r}, reference {want!r}"
        )


@pytest.mark.parametrize("case", CASES)
def test_basic_transmission_loss_and_field_strength(case):
    """Lb within 0.01 dB of the profile's listed loss; Ep likewise."""
    lb, ep = transmission_loss(**case.inputs)
    assert abs(lb - case.expected_Lb) <= 0.01
    assert abs(ep - case.expected_E) <= 0.01


# ---------------------------------------------------------------------------------------
# Hand-checkable unit tests on made-up profiles.


def _flat(n=101, dist_km=1.0, zone=4):
    d = np.linspace(0.0, dist_km, n)
    return d, np.zeros(n), np.full(n, float(zone))


KW = dict(phi_t=21.0, phi_r=21.009, lam_t=105.8, lam_r=105.8)


def test_version_is_stated():
    assert P1812_VERSION.startswith("ITU-R P.1812-6")


def test_free_space_on_a_clear_short_path():
    """1 km, 1 GHz, 100 m masts over flat ground, p = 50 %: Lb = 92.4 + 20 log f + 20 log d = 92.4 dB."""
    d, h, z = _flat(dist_km=1.0)
    det = transmission_loss_details(1.0, 50, d, h, None, None, z, 100.0, 100.0, 2, **KW)
    assert det.Lbfs == pytest.approx(92.4, abs=1e-9)  # Eq (8), equal heights so dfs = d
    assert det.Ld50 == 0.0 and det.Lbulla == 0.0
    assert abs(det.Lb - 92.4) < 0.01
    assert det.Ep == pytest.approx(199.36 - det.Lb)  # Eq (70), f = 1 GHz


def test_field_strength_scales_with_power():
    d, h, z = _flat(dist_km=5.0)
    lb1, ep1 = transmission_loss(0.9, 50, d, h, None, None, z, 30.0, 1.5, 1, **KW)
    lb10, ep10 = transmission_loss(0.9, 50, d, h, None, None, z, 30.0, 1.5, 1, Ptx=10.0, **KW)
    assert lb10 == lb1
    assert ep10 - ep1 == pytest.approx(10.0)


def test_loss_grows_with_location_percentage():
    """Loss not exceeded at more locations is larger; pL = 50 % is the median."""
    d, h, z = _flat(dist_km=10.0)
    h = 40.0 * np.sin(np.linspace(0.0, 3.0 * np.pi, d.size)) ** 2  # hills
    args = (0.9, 50, d, h, None, np.full(d.size, 4), z, 30.0, 1.5, 2)
    lbs = [transmission_loss(*args, pL=pl, sigmaL=5.5, **KW)[0] for pl in (1, 10, 50, 90, 99)]
    assert all(b > a for a, b in zip(lbs, lbs[1:], strict=False))
    median = transmission_loss(*args, **KW)[0]
    assert lbs[2] == pytest.approx(median, abs=1e-6)
    # 90 % of locations: I(0.9) = -1.28 standard deviations (Attachment 2 approximation)
    assert lbs[3] - median == pytest.approx(1.2817 * 5.5, abs=1e-3)


def test_no_location_variability_at_sea():
    d, h, z = _flat(dist_km=10.0, zone=1)
    a = transmission_loss(0.9, 50, d, h, None, None, z, 30.0, 1.5, 2, pL=90, sigmaL=5.5, **KW)
    b = transmission_loss(0.9, 50, d, h, None, None, z, 30.0, 1.5, 2, **KW)
    assert a == b


def test_clutter_defaults_from_table_2():
    """R = None takes Table 2's height for each point's category; clutter adds loss."""
    d, h, z = _flat(dist_km=5.0)
    forest = np.full(d.size, 4)
    via_ct = transmission_loss(0.9, 50, d, h, None, forest, z, 10.0, 1.5, 2, **KW)
    r_forest = np.full(d.size, CLUTTER_CATEGORIES[4][1])
    via_r = transmission_loss(0.9, 50, d, h, r_forest, forest, z, 10.0, 1.5, 2, **KW)
    open_ = transmission_loss(0.9, 50, d, h, None, None, z, 10.0, 1.5, 2, **KW)
    assert via_ct == via_r
    assert via_ct[0] > open_[0] + 5.0


def test_time_percentage_lowers_loss_on_a_long_path():
    d, h, z = _flat(dist_km=150.0, n=301)
    lbs = [transmission_loss(0.6, p, d, h, None, None, z, 100.0, 10.0, 1, **KW)[0] for p in (1, 10, 50)]
    assert lbs[0] < lbs[1] < lbs[2]


def test_inverse_normal_tail_and_location_std():
    assert inverse_normal_tail(0.5) == pytest.approx(0.0, abs=1e-6)
    assert inverse_normal_tail(0.1) == pytest.approx(1.2816, abs=5.4e-4)  # approximation error < 0.00054
    assert inverse_normal_tail(0.9) == -inverse_normal_tail(0.1)
    # (0.024 f + 0.52) wa^0.28 with f = 1 GHz, wa = 1 m: 0.544 dB; u(h) = 1 inside the clutter
    assert location_std_db(1.0, 1.5, 10.0, wa_m=1.0) == pytest.approx(0.544)
    assert location_std_db(1.0, 25.0, 10.0, wa_m=1.0) == 0.0
    assert location_std_db(1.0, 15.0, 10.0, wa_m=1.0) == pytest.approx(0.272)
    with pytest.raises(InputError, match="wa_m"):
        location_std_db(1.0, 1.5, 10.0, wa_m=0.0)


def _call(**over):
    d, h, z = _flat(dist_km=5.0)
    a = dict(f=0.9, p=50, d=d, h=h, R=None, Ct=None, zone=z, htg=30.0, hrg=1.5, pol=2, **KW)
    a.update(over)
    return transmission_loss(**a)


@pytest.mark.parametrize(
    "over, match",
    [
        (dict(f=7.0), r"f \(frequency, GHz\) must be in \[0.03, 6.0\] GHz"),
        (dict(f=0.01), r"f \(frequency"),
        (dict(p=0.5), r"p \(time percentage\)"),
        (dict(p=60), r"p \(time percentage\)"),
        (dict(pL=100), r"pL \(location percentage\)"),
        (dict(htg=0.5), r"htg"),
        (dict(hrg=4000), r"hrg"),
        (dict(pol=3), r"pol must be 1 \(horizontal\) or 2 \(vertical\)"),
        (dict(d=np.linspace(0.1, 5.0, 101)), r"d\[0\] must be 0"),
        (
            dict(d=np.r_[0.0, 2.0, 1.0, 5.0], h=np.zeros(4), zone=np.full(4, 4)),
            r"strictly increasing; got d\[1\] = 2.0",
        ),
        (dict(d=np.linspace(0.0, 0.1, 101)), r"path length d\[-1\] must be in \[0.25, 3000\] km"),
        (dict(d=np.r_[0.0, 5.0], h=np.zeros(2), zone=np.full(2, 4)), r"at least 3 profile points"),
        (dict(h=np.zeros(50)), r"h \(terrain heights amsl, m\) must be one value per profile point \(101"),
        (dict(zone=np.full(101, 2)), r"zone must be 1 \(sea\), 3 \(coastal land\) or 4 \(inland\)"),
        (dict(Ct=np.full(101, 6)), r"Ct must be a clutter category"),
        (dict(R=np.full(101, -1.0)), r"R \(representative clutter heights, m\) must be >= 0"),
        (dict(h=np.full(101, np.nan)), r"finite everywhere"),
        (dict(Ptx=0.0), r"Ptx"),
        (dict(DN=200.0), r"DN .* below 157"),
        (dict(phi_t=95.0), r"phi_t"),
        (dict(dct=-1.0), r"dct"),
    ],
)
def test_range_errors(over, match):
    with pytest.raises(InputError, match=match):
        _call(**over)


# ---------------------------------------------------------------------------------------
# Many paths at once: the same numbers as one path at a time.


def _pad(paths):
    """Padded (m, n) arrays from a list of dicts with d, h, R, zone (padding repeats the end)."""
    n = max(len(q["d"]) for q in paths)
    out = {k: np.zeros((len(paths), n)) for k in ("d", "h", "R", "zone")}
    for i, q in enumerate(paths):
        k = len(q["d"])
        for key in out:
            out[key][i, :k] = q[key]
            out[key][i, k:] = q[key][-1]
    return out, np.array([len(q["d"]) for q in paths])


def test_many_paths_equal_one_at_a_time_on_random_profiles():
    from covgap.models.p1812 import transmission_loss_many

    rng = np.random.default_rng(7)
    for trial in range(4):
        paths = []
        for _ in range(25):
            k = int(rng.integers(3, 400))
            dist = float(rng.uniform(0.3, 200.0))
            zone = np.where(np.arange(k) < k // 3, 1, 4) if trial % 2 else np.full(k, int(rng.choice([3, 4])))
            paths.append(dict(d=np.linspace(0.0, dist, k), h=500.0 + np.cumsum(rng.normal(0.0, 20.0, k)),
                              R=rng.choice([0.0, 10.0, 15.0, 20.0], k), zone=zone))
        arr, npts = _pad(paths)
        f, p, pol = float(rng.uniform(0.03, 6.0)), float(rng.choice([1.0, 7.5, 50.0])), int(rng.integers(1, 3))
        htg, hrg, sig = rng.uniform(1, 300, 25), rng.uniform(1, 50, 25), rng.uniform(0, 8, 25)
        lbs, eps = transmission_loss_many(f, p, arr["d"], arr["h"], arr["R"], None, arr["zone"], npts, htg, hrg, pol,
                                          phi_t=21.0, phi_r=22.0, lam_t=105.0, lam_r=106.0, pL=90, sigmaL=sig)
        for i, q in enumerate(paths):
            one = transmission_loss(f, p, q["d"], q["h"], q["R"], None, q["zone"], htg[i], hrg[i], pol,
                                    phi_t=21.0, phi_r=22.0, lam_t=105.0, lam_r=106.0, pL=90, sigmaL=sig[i])
            assert lbs[i] == pytest.approx(one[0], abs=1e-9)
            assert eps[i] == pytest.approx(one[1], abs=1e-9)


def test_many_paths_reproduce_the_validation_losses():
    from covgap.models.p1812 import transmission_loss_many

    real = [c.values[0] for c in CASES if c.values[0] is not None]
    if not real:
        pytest.skip("ITU-R P.1812 validation data not found (see the conformance tests' skip reason)")
    groups: dict = {}
    for c in real:
        key = (c.inputs["f"], c.inputs["p"], c.inputs["pol"], c.inputs["DN"], c.inputs["N0"])
        groups.setdefault(key, []).append(c)
    checked = 0
    for (f, p, pol, dn, n0), cs in groups.items():
        arr, npts = _pad([c.inputs for c in cs])
        per = {k: np.array([c.inputs[k] for c in cs]) for k in ("htg", "hrg", "phi_t", "phi_r", "lam_t", "lam_r",
                                                               "Ptx", "dct", "dcr")}
        lb, ep = transmission_loss_many(f, p, arr["d"], arr["h"], arr["R"], None, arr["zone"], npts, per["htg"],
                                        per["hrg"], pol, phi_t=per["phi_t"], phi_r=per["phi_r"], lam_t=per["lam_t"],
                                        lam_r=per["lam_r"], Ptx=per["Ptx"], DN=dn, N0=n0, dct=per["dct"],
                                        dcr=per["dcr"])
        for i, c in enumerate(cs):
            assert abs(lb[i] - c.expected_Lb) <= 0.01, c.name
            assert abs(ep[i] - c.expected_E) <= 0.01, c.name
            checked += 1
    assert checked == len(real)


def test_many_paths_range_errors():
    from covgap.models.p1812 import transmission_loss_many

    d = np.linspace(0.0, 5.0, 11)[None, :].repeat(2, axis=0)
    args = dict(f=0.9, p=50, d=d, h=np.zeros_like(d), R=None, Ct=None, zone=np.full(d.shape, 4), npts=[11, 11],
                htg=30.0, hrg=1.5, pol=2, phi_t=21.0, phi_r=21.05, lam_t=105.0, lam_r=105.0)
    with pytest.raises(InputError, match="npts must be integers from 3 to 11"):
        transmission_loss_many(**{**args, "npts": [2, 11]})
    bad = d.copy()
    bad[1, 4] = bad[1, 3]
    with pytest.raises(InputError, match=r"strictly increasing along each path; got path 1: d\[3\]"):
        transmission_loss_many(**{**args, "d": bad})
    with pytest.raises(InputError, match=r"hrg must be in \[1.0, 3000.0\]"):
        transmission_loss_many(**{**args, "hrg": [1.5, 0.5]})
    # points beyond npts are ignored, even if they hold nonsense
    junk = d.copy()
    junk[0, 6:] = np.nan
    lb_short, _ = transmission_loss_many(**{**args, "d": junk, "npts": [6, 11]})
    one, _ = transmission_loss(0.9, 50, d[0, :6], np.zeros(6), None, None, np.full(6, 4), 30.0, 1.5, 2,
                               phi_t=21.0, phi_r=21.05, lam_t=105.0, lam_r=105.0)
    assert lb_short[0] == pytest.approx(one, abs=1e-9)

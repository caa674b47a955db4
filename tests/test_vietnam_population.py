"""Shipped GSO population 2020 tables: 63 former provinces and the 34 regrouped ones."""

from __future__ import annotations

import pandas as pd
import pytest

from covgap.io import read_population_totals
from covgap.vietnam import aggregate_to_current, name_key, population_2020, population_2020_path, provinces_63

from conftest import shared_vnm


def test_63_rows_codes_and_total():
    t = population_2020("63")
    assert len(t) == 63 and sorted(t["code"]) == sorted(provinces_63()["code"])
    assert int(t["population"].sum()) == 97_582_600
    assert (t["population"] % 100 == 0).all() and set(t["year"]) == {"2020"}


def test_34_are_crosswalk_sums_of_63():
    t63, t34 = population_2020("63"), population_2020("34")
    agg = aggregate_to_current(t63[["code", "population"]], value_columns=["population"])
    assert len(t34) == 34
    assert dict(zip(agg["code"], agg["population"], strict=True)) == dict(
        zip(t34["code"], t34["population"], strict=True))
    assert t34["source"].str.contains("regrouped into the 2025 provinces").all()


@pytest.mark.parametrize("scheme", ["63", "34"])
def test_shipped_files_read_as_official_totals(scheme, tmp_path):
    path = tmp_path / f"{scheme}.csv"
    path.write_bytes(population_2020_path(scheme).read_bytes())
    t = read_population_totals(path)
    assert len(t) == int(scheme) and t["population"].sum() == 97_582_600.0


def test_same_numbers_as_the_shared_gso_file():
    src = shared_vnm() / "gso_population_2020_63.csv"
    if not src.exists():
        pytest.skip(f"real data folder absent: {src} (see tests/conftest.py)")
    g = pd.read_csv(src, comment="#")
    ours = population_2020("63")
    by_key = dict(zip(ours["name_vi"].map(name_key), ours["population"], strict=True))
    assert {name_key(n): int(v) for n, v in zip(g["name"], g["population_2020"], strict=True)} == by_key

"""Lenses in the analysis: border belt, island, rural, mountain columns and cluster attributes."""

import numpy as np

from covgap.analysis import analyse, gap_mask
from covgap.grid import Grid
from covgap.lenses import mountain_mask
from covgap.models.radius import RadiusModel


def test_lens_columns_conserve_people_per_unit(demo_run):
    analysis, _ = demo_run
    for level, t in analysis.units.items():
        for lens in ("border_belt", "island", "rural", "mountain"):
            p, u, n4 = t[f"{lens}_population"], t[f"{lens}_uncovered"], t[f"{lens}_without_4G"]
            assert (u <= p + 1e-9).all() and (n4 <= p + 1e-9).all() and (u <= n4 + 1e-9).all()
            assert (p <= t["population"] + 1e-9).all()
        assert (t["border_belt_uncovered"] <= t["uncovered"] + 1e-9).all()


def test_demo_has_border_belt_island_and_mountain_people(demo_run):
    analysis, _ = demo_run
    s = analysis.summary()["lenses"]
    assert s["border_belt"]["population"] > 0 and s["border_belt"]["belt_km"] == 20.0
    assert 0 < s["island"]["population"] < 10_000
    assert s["mountain"]["population"] > 0
    prov = analysis.units["province"]
    assert (prov["island_population"] > 0).sum() == 1, "the island belongs to one province"


def test_belt_grows_with_its_width(demo_run):
    analysis, _ = demo_run
    d = analysis.lenses.distance_to_border_km
    pop = analysis.study.population
    sums = [pop[d <= km].sum() for km in (5, 10, 20, 40)]
    assert all(a <= b for a, b in zip(sums, sums[1:]))
    assert np.nanmin(d) < 1.0


def test_clusters_carry_terrain_border_and_presence(demo_run):
    analysis, _ = demo_run
    cl = analysis.clusters
    for col in ("elevation_min_m", "elevation_mean_m", "elevation_max_m", "distance_to_border_km",
                "technologies_present", "missing_technologies", "operators_present", "missing_operators",
                "province_code", "commune_code", "distance_to_nearest_site_km"):
        assert col in cl.columns, col
    assert (cl["elevation_min_m"] <= cl["elevation_mean_m"] + 1e-6).all()
    assert (cl["elevation_mean_m"] <= cl["elevation_max_m"] + 1e-6).all()
    # clusters of "no signal at all" have nothing present
    assert (cl["technologies_present"] == "").all()


def test_gaps_by_technology_show_what_is_there(demo_run):
    analysis, _ = demo_run
    res = analyse(analysis.study, RadiusModel(), gap_technology="4G", min_population=50,
                  coverage=analysis.coverage)
    cl = res.clusters
    assert len(cl) >= len(analysis.clusters)
    assert cl["technologies_present"].str.contains("2G").any(), "some no-4G clusters have 2G"
    assert (cl["missing_technologies"].str.contains("4G")).all()
    assert gap_mask(res.coverage, "4G").sum() >= gap_mask(res.coverage, "any").sum()


def test_mountain_mask_kapos_classes():
    g = Grid.from_bounds(0, 0, 30_000, 30_000, res=(100, 100), crs="EPSG:32648")
    flat_high = np.full(g.shape, 2600.0)
    assert mountain_mask(flat_high, g).all()                  # class ≥ 2,500 m
    flat_low = np.full(g.shape, 800.0)
    assert not mountain_mask(flat_low, g).any()              # 300–1,000 m, no relief
    hill = flat_low.copy()
    hill[140:160, 140:160] = 1200.0                          # local relief 400 m > 300 m
    m = mountain_mask(hill, g)
    assert m[150, 150] and m[150, 100]                      # relief within 7 km counts
    assert not m[0, 0]                                       # > 7 km away from the hill
    z = np.full(g.shape, np.nan)
    assert not mountain_mask(z, g).any()

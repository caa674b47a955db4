"""covgap.towers: OpenCelliD cells → sites (tiny hand-checked fixture + invariants)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from covgap.errors import DataFileError, InputError
from covgap.grid import haversine_m
from covgap.sites import validate_sites
from covgap.towers import (
    OPENCELLID_COLUMNS,
    CellFilter,
    ClusterParams,
    clean_cells,
    cluster_sites,
    opencellid_to_sites,
    operator_table_to_sites,
    read_cells,
)

SAMPLE = Path(__file__).parent / "data" / "opencellid_452_sample.csv"


def test_read_without_and_with_header_and_gzip(tmp_path):
    a = read_cells(SAMPLE)  # per-country style: no header line
    assert list(a.columns) == list(OPENCELLID_COLUMNS) and len(a) == 18
    with_header = tmp_path / "cell_towers.csv.gz"
    with gzip.open(with_header, "wt") as f:
        f.write(",".join(OPENCELLID_COLUMNS) + "\n" + SAMPLE.read_text())
    b = read_cells(with_header)
    pd.testing.assert_frame_equal(a, b)


def test_read_rejects_other_files(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("name,lon\nA,1\n")
    with pytest.raises(DataFileError, match="expected the 14 OpenCelliD columns"):
        read_cells(p)


def test_clean_counts_every_drop_reason_once():
    cells, rep = clean_cells(read_cells(SAMPLE))
    assert rep.rows_in == 18
    assert rep.dropped == {
        "bad_coordinates": 1,
        "other_mcc": 1,
        "unknown_radio": 1,
        "unknown_operator": 1,
        "duplicate_cell": 1,
        "too_few_samples": 1,
        "range_too_large": 1,
        "stale": 1,
    }
    assert rep.cells_kept == len(cells) == 10 == rep.rows_in - sum(rep.dropped.values())
    assert set(cells["technology"]) == {"2G", "3G", "4G", "5G"}
    assert set(cells["operator"]) == {"Viettel", "MobiFone", "VinaPhone"}
    # the duplicate kept is the one with more samples
    dup = cells[(cells["cell"] == 12345)]
    assert len(dup) == 1 and dup["samples"].iloc[0] == 20
    # changeable = 0 (operator-supplied position) is kept although it has 0 samples and range 0
    assert 12400 in set(cells["cell"])


def test_thresholds_are_configurable():
    raw = read_cells(SAMPLE)
    _, rep = clean_cells(
        raw, filters=CellFilter(min_samples=1, max_range_m=None, max_age_days=None)
    )
    assert "too_few_samples" not in rep.dropped and "range_too_large" not in rep.dropped
    assert "stale" not in rep.dropped and rep.cells_kept == 13
    _, rep = clean_cells(raw, study_bbox=(105.0, 20.0, 106.5, 22.0))
    assert rep.dropped["outside_bbox"] == 1 and rep.cells_kept == 9


def test_sites_from_sample():
    sites, rep = opencellid_to_sites(SAMPLE)
    assert rep.lte_enb_groups == 1 and rep.lte_split_from_enb == 1
    assert rep.sites == 7 and rep.transmitters == len(sites) == 8
    v1 = sites[sites["site_id"] == "Viettel-00001"]
    # eNB 100000 (3 LTE cells) + the GSM cell 130 m away = one mast with 2G and 4G
    assert sorted(v1["technology"]) == ["2G", "4G"]
    assert (v1["site_technologies"] == "2G+4G").all()
    assert int(v1.loc[v1["technology"] == "4G", "n_cells"].iloc[0]) == 3
    assert float(haversine_m(v1["lon"].iloc[0], v1["lat"].iloc[0], 105.8, 21.0)) < 150
    # MobiFone's cell at the same spot stays a MobiFone site
    mobi = sites[sites["operator"] == "MobiFone"]
    assert len(mobi) == 1 and mobi["site_id"].iloc[0] == "MobiFone-00001"
    assert rep.by_operator_technology == {
        "MobiFone": {"2G": 1},
        "VinaPhone": {"5G": 1},
        "Viettel": {"2G": 3, "3G": 1, "4G": 2},
    }
    clean, srep = validate_sites(sites, source="sites from OpenCelliD")
    assert srep.rows_out == 8 and set(clean["technology"]) <= {"2G", "3G", "4G", "5G"}
    assert sum(sites["n_cells"]) == rep.cells_kept


def test_cluster_radius_zero_keeps_every_unit():
    sites, rep = opencellid_to_sites(SAMPLE, params=ClusterParams(radius_m=0))
    assert rep.sites == rep.cells_kept - 2  # only the 3 cells of eNB 100000 share a site


def test_no_enb_grouping_falls_back_to_proximity():
    sites, rep = opencellid_to_sites(SAMPLE, params=ClusterParams(use_enb=False))
    assert rep.lte_enb_groups == 0
    assert rep.sites == 7  # the eNB's cells lie within 250 m anyway


def test_leader_clustering_does_not_chain_along_a_road():
    # 11 cells every 200 m along a line: single linkage at 250 m would make one 2-km "site"
    lon = 105.0 + np.arange(11) * (200 / 103_800)
    cells = pd.DataFrame(
        {"operator": "X", "technology": "2G", "lon": lon, "lat": 21.0, "samples": 5}
    )
    sites, rep = cluster_sites(cells, params=ClusterParams(radius_m=250))
    # leaders in file order (equal samples): cells 0+1, 2+3, 4+5, 6+7, 8+9, 10
    assert rep.sites == 6 and sites["n_cells"].max() == 2


def test_empty_after_cleaning_is_an_error():
    raw = read_cells(SAMPLE)
    with pytest.raises(InputError, match="no cell is left after cleaning"):
        opencellid_to_sites(raw, mccs=[999])


def test_operator_table_kept_or_clustered():
    tab = pd.DataFrame(
        {
            "site_id": ["a", "a", "b"],
            "operator": ["Viettel"] * 3,
            "radio": ["LTE", "GSM", "LTE"],
            "lon": [105.0, 105.0, 105.1],
            "lat": [21.0, 21.0, 21.1],
            "antenna_height_m": [40, 40, 25],
        }
    )
    sites, rep = operator_table_to_sites(tab)
    assert rep.sites == 2 and list(sites["technology"]) == ["4G", "2G", "4G"]
    assert list(sites["antenna_height_m"]) == [40, 40, 25]
    sites2, rep2 = operator_table_to_sites(tab.drop(columns="site_id"))
    assert rep2.sites == 2
    with pytest.raises(InputError, match="row 2, field 'technology'"):
        operator_table_to_sites(tab.assign(radio=["WIMAX", "GSM", "LTE"]))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(105.0, 105.05),
            st.floats(21.0, 21.05),
            st.sampled_from(["A", "B"]),
            st.sampled_from(["2G", "3G", "4G"]),
            st.integers(1, 50),
        ),
        min_size=1,
        max_size=40,
    ),
    st.floats(0, 2000),
)
def test_clustering_invariants(rows, radius):
    cells = pd.DataFrame(rows, columns=["lon", "lat", "operator", "technology", "samples"])
    sites, rep = cluster_sites(cells, params=ClusterParams(radius_m=radius, use_enb=False))
    # every cell is in exactly one site; sites never mix operators; at most one row per site and technology
    assert sites["n_cells"].sum() == len(cells)
    assert rep.sites <= len(cells)
    assert not sites.duplicated(["site_id", "technology"]).any()
    assert (sites.groupby("site_id")["operator"].nunique() == 1).all()
    for (op, tech), g in cells.groupby(["operator", "technology"]):
        assert sites[(sites.operator == op) & (sites.technology == tech)]["n_cells"].sum() == len(g)


def test_mnc_06_is_viettel_and_08_keeps_a_neutral_label():
    raw = pd.DataFrame({"radio": ["LTE", "LTE", "GSM"], "mcc": [452] * 3, "net": [4, 6, 8], "area": [1] * 3,
                        "cell": [256, 512, 7], "lon": [105.0, 105.1, 105.2], "lat": [21.0] * 3,
                        "range": [1000] * 3, "samples": [5] * 3, "changeable": [1] * 3, "updated": [1.7e9] * 3})
    cells, rep = clean_cells(raw)
    assert cells["operator"].tolist() == ["Viettel", "Viettel", "452-08"]  # 06: EVN Telecom, merged into Viettel
    assert "unknown_operator" not in rep.dropped

"""The 2025 units (34 provinces, 3,321 communes): reader, nesting rule, config, and the real files."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box, mapping

from conftest import ROOT, shared_vnm
from covgap.config import parse_config
from covgap.errors import ConfigError, DataFileError, InputError
from covgap.vietnam import units_2025
from covgap.vietnam.units2025 import nest_labels, vn2025_geojson_dir


# --------------------------------------------------------------------------- a tiny tree, upstream layout
def _fc(code: str, props: dict, geom) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": code, "geometry": mapping(geom), "properties": {"code": code, **props}}]}


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def _tree(root: Path, *, index: bool = True) -> Path:
    """Province 04 (two communes: a xã written in NFD, a phường) and province 22 (one island đặc khu)."""
    g = root / "json" / "geojson"
    _write(g / "04_cao_bang" / "04_cao_bang.geojson",
           _fc("04", {"name": "Cao Bằng", "nameEn": "Cao Bang", "fullName": "Tỉnh Cao Bằng", "areaKm2": 2.0},
               box(0, 0, 2, 1)))
    _write(g / "04_cao_bang" / "wards" / "01273_thuc_phan.geojson",
           _fc("01273", {"name": "Thục Phán", "nameEn": "Thuc Phan", "fullName": "Phường Thục Phán"}, box(0, 0, 1, 1)))
    _write(g / "04_cao_bang" / "wards" / "01768_phan_thanh.geojson",
           _fc("01768", {"name": unicodedata.normalize("NFD", "Phan Thanh Đức"), "nameEn": "Phan Thanh Duc",
                         "fullName": unicodedata.normalize("NFD", "Xã Phan Thanh Đức")}, box(1, 0, 2, 1)))
    _write(g / "22_quang_ninh" / "22_quang_ninh.geojson",
           _fc("22", {"name": "Quảng Ninh", "nameEn": "Quang Ninh", "fullName": "Tỉnh Quảng Ninh"}, box(3, 0, 4, 1)))
    _write(g / "22_quang_ninh" / "wards" / "07192_co_to.geojson",
           _fc("07192", {"name": "Cô Tô", "nameEn": "Co To", "fullName": "Đặc khu Cô Tô"}, box(3.5, 0.5, 3.6, 0.6)))
    if index:
        def ward(code, name, en, short_en, pc):
            return {"Code": code, "Name": name, "NameEn": en, "ProvinceCode": pc,
                    "AdministrativeUnitShortNameEn": short_en}
        units = [
            {"Code": "04", "Name": "Cao Bằng", "NameEn": "Cao Bang", "AdministrativeUnitShortNameEn": "Province",
             "Wards": [ward("01273", "Thục Phán", "Thuc Phan", "Ward", "04"),
                       ward("01768", "Phan Thanh Đức", "Phan Thanh Duc", "Commune", "04")]},
            {"Code": "22", "Name": "Quảng Ninh", "NameEn": "Quang Ninh", "AdministrativeUnitShortNameEn": "Province",
             "Wards": [ward("07192", "Cô Tô", "Co To", "Special administrative region", "22")]},
        ]
        _write(root / "units_2025.json", units)  # type: ignore[arg-type]
    return root


@pytest.mark.parametrize("index", [True, False])
def test_reads_both_levels_with_nfc_names_types_and_province_link(tmp_path, index):
    root = _tree(tmp_path / "vpd", index=index)
    p = units_2025(root, "province")
    assert p.crs.to_epsg() == 4326
    assert p["code"].tolist() == ["04", "22"] and p["name"].tolist() == ["Cao Bằng", "Quảng Ninh"]
    assert p["unit_type"].tolist() == ["province", "province"] and p["province_code"].tolist() == ["04", "22"]
    c = units_2025(root, "commune")
    assert c["code"].tolist() == ["01273", "01768", "07192"]
    assert c["province_code"].tolist() == ["04", "04", "22"]
    assert c["unit_type"].tolist() == ["ward", "commune", "special_zone"]  # the island zone is a unit of its own
    assert c["name"].iloc[1] == "Phan Thanh Đức" and unicodedata.is_normalized("NFC", c["name"].iloc[1])
    assert c["name_en"].tolist() == ["Thuc Phan", "Phan Thanh Duc", "Co To"]
    assert [round(g.area, 6) for g in c.geometry] == [1.0, 1.0, 0.01]
    # the geojson folder itself works as root; provinces= selects
    only = units_2025(vn2025_geojson_dir(root), "commune", provinces=["22"])
    assert only["code"].tolist() == ["07192"]
    assert units_2025(root, "commune", provinces=4)["code"].tolist() == ["01273", "01768"]


def test_commune_level_without_wards_lists_the_provinces_left_out(tmp_path):
    root = _tree(tmp_path / "vpd", index=False)
    for f in (root / "json" / "geojson" / "22_quang_ninh" / "wards").iterdir():
        f.unlink()
    (root / "json" / "geojson" / "22_quang_ninh" / "wards").rmdir()
    c = units_2025(root, "commune")
    assert c["province_code"].unique().tolist() == ["04"]
    assert c.attrs["provinces_without_communes"] == ["22"]
    with pytest.raises(DataFileError, match=r"province 22 has no communes folder .*covgap fetch"):
        units_2025(root, "commune", provinces=["22"])


def test_clear_errors(tmp_path):
    with pytest.raises(DataFileError, match="does not exist.*vietnamese-provinces-database"):
        units_2025(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match="no province folders"):
        units_2025(tmp_path / "empty")
    root = _tree(tmp_path / "vpd")
    with pytest.raises(InputError, match="level = 'district'"):
        units_2025(root, "district")
    with pytest.raises(InputError, match="'99' is not a 2025 province code"):
        units_2025(root, provinces=["99"])
    with pytest.raises(DataFileError, match=r"province 11 \(Điện Biên\) has no folder"):
        units_2025(root, provinces=["11"])
    # a commune listed in units_2025.json without its file
    (root / "json" / "geojson" / "04_cao_bang" / "wards" / "01768_phan_thanh.geojson").unlink()
    with pytest.raises(DataFileError, match=r"1 listed without a file \(\['01768'\]\)"):
        units_2025(root, "commune")
    # a file whose feature code contradicts its name
    f = root / "json" / "geojson" / "22_quang_ninh" / "wards" / "07192_co_to.geojson"
    obj = json.loads(f.read_text(encoding="utf-8"))
    obj["features"][0]["properties"]["code"] = "07193"
    f.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"07192_co_to.geojson: feature code\(s\) \['07193'\] differ"):
        units_2025(root, "commune", provinces=["22"])
    # an outline file missing from a province folder
    (root / "json" / "geojson" / "22_quang_ninh" / "22_quang_ninh.geojson").unlink()
    with pytest.raises(DataFileError, match="province 22 has no outline file 22_quang_ninh.geojson"):
        units_2025(root, "province")


def test_names_contradicting_the_index_are_an_error(tmp_path):
    root = _tree(tmp_path / "vpd")
    units = json.loads((root / "units_2025.json").read_text(encoding="utf-8"))
    units[0]["Wards"][0]["Name"] = "Thục Phán Mới"
    (root / "units_2025.json").write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataFileError, match="name 'Thục Phán' differs from units_2025.json's 'Thục Phán Mới'"):
        units_2025(root, "commune", provinces=["04"])


# --------------------------------------------------------------------------- nesting rule
def test_nest_labels_sums_match_on_random_grids():
    rng = np.random.default_rng(7)
    for _ in range(20):
        parent = rng.integers(0, 4, size=(30, 40))
        child = rng.integers(0, 7, size=(30, 40))
        child[rng.random(child.shape) < 0.3] = 0
        child_parent = np.array([0, 1, 1, 2, 2, 3, 0])  # child 6's parent is not in the parent level
        pop = rng.random(parent.shape)
        c, p, rep = nest_labels(child, child_parent, parent)
        # every cell of a parent that has children is in one of its children, and vice versa
        for k in (1, 2, 3):
            kids = np.flatnonzero(child_parent == k)
            assert pop[p == k].sum() == pytest.approx(pop[np.isin(c, kids)].sum(), rel=1e-12)
        assert (p[c == 6] == 0).all()
        assert rep["unfilled_cells"] == 0 and rep["filled_cells"] > 0


def test_nest_labels_rejects_bad_lookup():
    with pytest.raises(InputError, match="child_parent must have one entry per child label"):
        nest_labels(np.array([[3]]), np.array([0, 1]), np.array([[1]]))


# --------------------------------------------------------------------------- config
def _cfg(**admin):
    base = {"inputs": {"population": "p.tif", "towers": "t.csv"},
            "admin": [{"level": "province", "path": "vpd", **admin}]}
    return parse_config(base, base=Path("/d"))


def test_config_vn2025_levels():
    a = _cfg(vn2025="commune", provinces=["4", "11"]).admin[0]
    assert (a.vn2025, a.provinces, a.code_field, a.name_field) == ("commune", ("04", "11"), "code", "name")
    assert a.ref.path == Path("/d/vpd")
    with pytest.raises(ConfigError, match='vn2025 = "ward" .*expected one of "province" or "commune"'):
        _cfg(vn2025="ward")
    with pytest.raises(ConfigError, match="provinces needs vn2025"):
        _cfg(provinces=["04"], code_field="c", name_field="n")
    with pytest.raises(ConfigError, match="exclude each other"):
        _cfg(vn2025="province", vietnam="former63")
    with pytest.raises(ConfigError, match='provinces = "04" .*expected a list'):
        _cfg(vn2025="province", provinces="04")


# --------------------------------------------------------------------------- the real files
VNM = shared_vnm()
VN25 = VNM / "vn2025"
real = pytest.mark.skipif(not (VN25 / "units_2025.json").exists() or
                          not (VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif").exists(),
                          reason=f"real Vietnam files not found in {VNM} (../shared/data/vnm beside the checkout, "
                                 "or set COVGAP_SHARED_DATA)")
PROVINCES = {"04": 56, "11": 45}  # Cao Bằng, Điện Biên: communes since 1 July 2025


@real
def test_real_34_provinces_and_the_communes_of_two_match_the_index_exactly():
    index = json.loads((VN25 / "units_2025.json").read_text(encoding="utf-8"))
    assert sum(len(p["Wards"]) for p in index) == 3321
    p = units_2025(VN25, "province")
    assert len(p) == 34 and p["code"].tolist() == sorted(x["Code"] for x in index)
    assert dict(zip(p["code"], p["name"])) == {x["Code"]: x["Name"] for x in index}
    c = units_2025(VN25, "commune", provinces=list(PROVINCES))
    assert c.groupby("province_code").size().to_dict() == PROVINCES
    want = {w["Code"]: (w["Name"], w["NameEn"], w["ProvinceCode"]) for x in index if x["Code"] in PROVINCES
            for w in x["Wards"]}
    got = {r.code: (r.name, r.name_en, r.province_code) for r in c.itertuples()}
    assert got == want
    assert all(unicodedata.is_normalized("NFC", n) for n in c["name"])
    assert set(c["unit_type"]) <= {"commune", "ward"}
    # the 13 island special zones are units of their own in the index (kept so by the reader: unit_type)
    zones = [w["Name"] for x in index for w in x["Wards"] if w["AdministrativeUnitShortNameEn"].startswith("Special")]
    assert len(zones) == 13 and "Phú Quốc" in zones and "Trường Sa" in zones


@real
@pytest.mark.parametrize("code", sorted(PROVINCES))
def test_real_communes_union_matches_the_province_outline_within_1_percent(code):
    prov = units_2025(VN25, "province", provinces=[code]).to_crs("+proj=cea +datum=WGS84")
    com = units_2025(VN25, "commune", provinces=[code]).to_crs("+proj=cea +datum=WGS84")
    a_prov = prov.geometry.iloc[0].area
    a_union = com.union_all().area
    assert abs(a_union / a_prov - 1) < 0.01, (a_union / 1e6, a_prov / 1e6)
    # communes do not overlap each other (the sum of their areas is their union's)
    assert com.area.sum() == pytest.approx(a_union, rel=1e-4)


@pytest.fixture(scope="module")
def vn25_run(tmp_path_factory):
    if not (VN25 / "units_2025.json").exists() or not (VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif").exists():
        pytest.skip(f"real Vietnam files not found in {VNM}")
    from covgap.config import load_config
    from covgap.pipeline import run

    cfg = load_config(ROOT / "tests" / "data" / "vnm_vn2025.toml")
    if cfg.population.path.resolve() != (VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif").resolve():
        pytest.skip("tests/data/vnm_vn2025.toml points at ../shared beside the checkout; COVGAP_SHARED_DATA differs")
    out = tmp_path_factory.mktemp("vn2025") / "out"
    analysis = run(cfg, out, model_kind="radius")
    return analysis, out


@real
def test_real_commune_population_sums_to_the_province_from_the_same_cells(vn25_run):
    from covgap.io import read_population

    a, _ = vn25_run
    prov, com = a.units["province"], a.units["commune"]
    parent = a.study.level("commune").units["parent_code"].to_numpy()
    sums = com.assign(parent=parent).groupby("parent")[["population", "uncovered", "covered_any"]].sum()
    for code in PROVINCES:
        row = prov.set_index("code").loc[code]
        for col in ("population", "uncovered", "covered_any"):
            assert sums.loc[code, col] == pytest.approx(row[col], rel=1e-12, abs=1e-6), (code, col)
        assert 3.0e5 < row["population"] < 1.0e6   # 2020: about 0.53 M (Cao Bằng), 0.6 M (Điện Biên)
    # the province's cells are exactly its communes' cells
    pl, cl = a.study.level("province").labels, a.study.level("commune").labels
    for code in PROVINCES:
        k = prov["code"].tolist().index(code) + 1
        kids = [j + 1 for j, pc in enumerate(parent) if pc == code]
        np.testing.assert_array_equal(pl == k, np.isin(cl, kids))
    # the whole raster is still counted once over the 34 provinces
    raw, _, _ = read_population(VNM / "vnm_ppp_2020_1km_Aggregated_UNadj.tif")
    assert prov["population"].sum() + prov.attrs["outside"]["population"] == pytest.approx(raw.sum(), rel=1e-9)
    assert (com["population"] > 0).all()
    nest = a.study.notes["admin"]["commune"]["nested_in"]
    assert nest["level"] == "province" and nest["unfilled_cells"] == 0


@real
def test_real_run_writes_per_commune_tables_in_both_languages(vn25_run, tmp_path):
    import openpyxl

    from covgap.report import write_xlsx

    a, out = vn25_run
    index = json.loads((VN25 / "units_2025.json").read_text(encoding="utf-8"))
    names = {w["Code"]: w["Name"] for x in index for w in x["Wards"]}
    en = write_xlsx(a, tmp_path / "gap_report_en.xlsx", lang="en")
    for path, sheet, code_head, name_head in ((out / "gap_report.xlsx", "Các xã", "Mã", "Tên"),
                                              (en, "Communes", "code", "name")):
        ws = openpyxl.load_workbook(path)[sheet]
        rows = list(ws.iter_rows(values_only=True))
        head = next(i for i, r in enumerate(rows) if r and r[0] == code_head)
        assert rows[head][1] == name_head
        body = [r for r in rows[head + 1:] if r and r[0]]
        assert len(body) == sum(PROVINCES.values())
        assert {r[0]: r[1] for r in body} == {c: names[c] for c in (r[0] for r in body)}
        assert all(isinstance(r[0], str) and len(r[0]) == 5 for r in body)  # codes stay text ("01273")

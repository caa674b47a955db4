"""Vietnam province tables, crosswalk 63 → 34, name matching and repair, dissolving."""

from __future__ import annotations

import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from covgap import vietnam as vn
from covgap.errors import InputError

T63 = vn.provinces_63()
T34 = vn.provinces_34()

UNCHANGED = {
    "Hà Nội",
    "Huế",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Lạng Sơn",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Cao Bằng",
}
CITIES_34 = {"01", "31", "46", "48", "79", "92"}  # Hà Nội, Hải Phòng, Huế, Đà Nẵng, TP HCM, Cần Thơ


# --------------------------------------------------------------------------- tables
def test_table_sizes_and_codes():
    assert len(T63) == 63 and T63.code.is_unique
    assert len(T34) == 34 and T34.code.is_unique
    for t in (T63, T34):
        assert t.code.str.fullmatch(r"\d{2}").all()
        assert t.slug.str.fullmatch(r"[a-z]+(-[a-z]+)*").all() and t.slug.is_unique
        assert all(n.isascii() for n in t.name_ascii)
        assert all(unicodedata.is_normalized("NFC", n) for n in t.name_vi)
    assert T63.code.iloc[0] == "01" and T63.code.iloc[-1] == "96"
    assert T63.set_index("code").loc["96", "name_vi"] == "Cà Mau"


def test_six_cities_28_provinces_11_unchanged_23_merged():
    assert set(T34.loc[T34.kind == "city", "code"]) == CITIES_34
    assert (T34.kind == "province").sum() == 28
    single = T34[~T34.former_codes.str.contains(";")]
    assert set(single.name_vi) == UNCHANGED
    assert (single.code == single.former_codes).all()  # unchanged units keep their code
    assert len(T34) - len(single) == 23


def test_crosswalk_complete_and_exact():
    cw = vn.crosswalk()
    assert len(cw) == 63 and cw.former_code.is_unique
    assert set(cw.current_code) == set(T34.code)
    parts = sorted(c for s in T34.former_codes for c in s.split(";"))
    assert parts == sorted(T63.code)  # every former province in exactly one current one
    back = {c: row.code for row in T34.itertuples() for c in row.former_codes.split(";")}
    assert all(back[f] == c for f, c in zip(cw.former_code, cw.current_code))
    # 23 merged units come from 52 former ones
    merged = T34[T34.former_codes.str.contains(";")]
    assert sum(len(s.split(";")) for s in merged.former_codes) == 52


def test_seat_rule_and_known_mergers():
    assert (T34.code == T34.seat_former_code).all()
    assert all(r.seat_former_code in r.former_codes.split(";") for r in T34.itertuples())
    cw = vn.crosswalk().set_index("former_name_vi")["current_name_vi"]
    expected = {
        "Hà Giang": "Tuyên Quang",
        "Yên Bái": "Lào Cai",
        "Bắc Kạn": "Thái Nguyên",
        "Hòa Bình": "Phú Thọ",
        "Vĩnh Phúc": "Phú Thọ",
        "Bắc Giang": "Bắc Ninh",
        "Thái Bình": "Hưng Yên",
        "Hải Dương": "Hải Phòng",
        "Nam Định": "Ninh Bình",
        "Hà Nam": "Ninh Bình",
        "Quảng Bình": "Quảng Trị",
        "Quảng Nam": "Đà Nẵng",
        "Kon Tum": "Quảng Ngãi",
        "Bình Định": "Gia Lai",
        "Ninh Thuận": "Khánh Hòa",
        "Đắk Nông": "Lâm Đồng",
        "Bình Thuận": "Lâm Đồng",
        "Phú Yên": "Đắk Lắk",
        "Bình Dương": "Thành phố Hồ Chí Minh",
        "Bà Rịa – Vũng Tàu": "Thành phố Hồ Chí Minh",
        "Bình Phước": "Đồng Nai",
        "Long An": "Tây Ninh",
        "Sóc Trăng": "Cần Thơ",
        "Hậu Giang": "Cần Thơ",
        "Bến Tre": "Vĩnh Long",
        "Trà Vinh": "Vĩnh Long",
        "Tiền Giang": "Đồng Tháp",
        "Bạc Liêu": "Cà Mau",
        "Kiên Giang": "An Giang",
        "Thừa Thiên Huế": "Huế",
    }
    for former, current in expected.items():
        assert cw[former] == current, former


def test_current_code_of():
    assert vn.current_code_of(["2", "10", "77", "46"]).tolist() == ["08", "15", "79", "46"]
    with pytest.raises(InputError, match="not former GSO"):
        vn.current_code_of(["03"])


# --------------------------------------------------------------------------- text repair
def _mojibake(text: str, codec: str) -> str:
    """UTF-8 bytes decoded with a wrong single-byte codec; undefined bytes kept as U+0080–U+009F."""
    out = []
    for b in text.encode("utf-8"):
        try:
            out.append(bytes([b]).decode(codec))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


@pytest.mark.parametrize("codec", ["latin-1", "cp1252", "cp1258"])
@pytest.mark.parametrize(
    "name", ["Hà Nội", "Đà Nẵng", "Thừa Thiên Huế", "Bà Rịa–Vũng Tàu", "Đắk Lắk", "Quảng Ngãi"]
)
def test_repair_mojibake(name, codec):
    bad = _mojibake(name, codec)
    assert bad != name
    assert vn.repair_text(bad) == name
    assert vn.repair_text(unicodedata.normalize("NFC", bad)) == name  # even after a normaliser ran


def test_repair_double_encoded_and_controls():
    twice = _mojibake(_mojibake("Hưng Yên", "cp1252"), "cp1252")
    assert vn.repair_text(twice) == "Hưng Yên"
    assert vn.repair_text("  Hà Nội\t") == "Hà Nội"
    assert vn.repair_text(unicodedata.normalize("NFD", "Hồ Chí Minh")) == "Hồ Chí Minh"


def test_repair_lost_byte_fixes_the_rest():
    bad = "Ä\ufffdÃ\xa0 Náºµng"  # Đ lost its second byte (decoded with errors="replace")
    assert vn.repair_text(bad).endswith("Nẵng")


def test_correct_names_untouched():
    for n in list(T63.name_vi) + list(T34.name_vi) + ["Ho Chi Minh", "Cao Bằng", "Ó Ô Õ"]:
        assert vn.repair_text(n) == n


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(list(T63.name_vi)), st.sampled_from(["latin-1", "cp1252", "cp1258"]))
def test_repair_property(name, codec):
    assert vn.repair_text(_mojibake(name, codec)) == name
    assert vn.name_key(_mojibake(name, codec)) == vn.name_key(name)


def test_decode_legacy():
    assert vn.decode_legacy("Sơn La".encode()) == "Sơn La"
    assert vn.decode_legacy(b"S\xf5n La") == "Sơn La"  # Windows-1258
    with pytest.raises(InputError, match="encoding"):
        vn.decode_legacy(b"\xff\xfe", encoding="utf-8")


def test_repair_names_counts():
    s = pd.Series(["Hà Nội", _mojibake("Cà Mau", "latin-1"), None])
    fixed, n = vn.repair_names(s)
    assert fixed.tolist()[:2] == ["Hà Nội", "Cà Mau"] and n == 1


# --------------------------------------------------------------------------- matching
def _gdf(names, iso=None):
    geoms = [box(i, 0, i + 1, 1) for i in range(len(names))]
    data = {"NAME": names}
    if iso is not None:
        data["ISO"] = iso
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


def test_match_variants():
    names = [
        "Tỉnh Hoà Bình",
        "TP. Hồ Chí Minh",
        "Dak Lak",
        "Thua Thien - Hue",
        "Côn Đảo",
        "Thành phố Hà Nội",
        "BA RIA - VUNG TAU",
        "Khanh Hoa",
        "Đắc Nông",
        "Bac Kan",
        _mojibake("Bình Định", "latin-1"),
        "Quang Ninh Province",
        "Ha Noi City",
        "Can Tho city",
    ]
    out = vn.match_former_provinces(_gdf(names), name_field="NAME")
    assert out.code.tolist() == [
        "17",
        "79",
        "66",
        "46",
        "77",
        "01",
        "77",
        "56",
        "67",
        "06",
        "52",
        "22",
        "01",
        "92",
    ]
    assert out.current_code.tolist()[:5] == ["25", "79", "66", "46", "79"]
    assert out.NAME.iloc[10] == "Bình Định" and out.attrs["names_repaired"] == 1
    assert out.name_vi.iloc[2] == "Đắk Lắk"


def test_match_all_63_by_every_spelling():
    for col in ("name_vi", "name_ascii", "gb_shape_name", "slug"):
        out = vn.match_former_provinces(
            _gdf(T63[col].tolist()), name_field=col if False else "NAME", require_all=True
        )
        assert out.code.tolist() == T63.code.tolist(), col


def test_unmatched_names_listed_with_fix():
    g = _gdf(["Hà Nội", "Atlantis", "Hà Tây"])
    with pytest.raises(InputError) as ei:
        vn.match_former_provinces(g, name_field="NAME", source="units.shp")
    msg = str(ei.value)
    assert "units.shp" in msg and "'Atlantis'" in msg and "'Hà Tây'" in msg and "aliases=" in msg
    out = vn.match_former_provinces(g, name_field="NAME", aliases={"Atlantis": "96", "Hà Tây": "1"})
    assert out.code.tolist() == ["01", "96", "01"]


def test_iso_cross_check_and_fallback():
    g = _gdf(["Hà Nội", "???", "Cà Mau"], iso=["VN-HN", "VN-59", "VN-HN"])
    with pytest.raises(InputError, match="conflicts"):
        vn.match_former_provinces(g, name_field="NAME", iso_field="ISO")
    g2 = _gdf(["Hà Nội", "???"], iso=["VN-HN", "VN-59"])
    assert vn.match_former_provinces(g2, name_field="NAME", iso_field="ISO").code.tolist() == [
        "01",
        "96",
    ]


def test_require_all_and_bad_field():
    g = _gdf(["Hà Nội"])
    with pytest.raises(InputError, match="62 former provinces have no feature"):
        vn.match_former_provinces(g, name_field="NAME", require_all=True)
    with pytest.raises(InputError, match="name_field"):
        vn.match_former_provinces(g, name_field="shapeName")


def test_misencoded_shapefile_roundtrip(tmp_path):
    """A UTF-8 .dbf without .cpg read as latin-1 → mojibake → matched and repaired to UTF-8."""
    names = ["Hà Nội", "Đà Nẵng", "Thừa Thiên Huế", "Bà Rịa–Vũng Tàu"]
    p = tmp_path / "adm1.shp"
    _gdf(names).to_file(p, encoding="utf-8", engine="pyogrio")
    for cpg in tmp_path.glob("*.cpg"):
        cpg.unlink()
    raw = gpd.read_file(p, engine="pyogrio")  # no .cpg, no LDID: GDAL reads the .dbf as ISO-8859-1
    assert raw.NAME.tolist() != names  # deliberately mis-read
    assert raw.NAME.iloc[0] == "HÃ\xa0 Ná»\x99i"
    out = vn.match_former_provinces(raw, name_field="NAME")
    assert out.NAME.tolist() == names
    assert out.code.tolist() == ["01", "48", "46", "77"]
    assert out.attrs["names_repaired"] == 4


# --------------------------------------------------------------------------- dissolving / aggregating
def _all63():
    g = gpd.GeoDataFrame(
        {"NAME": T63.name_vi.tolist()},
        geometry=[box(i % 9, i // 9, i % 9 + 1, i // 9 + 1) for i in range(63)],
        crs="EPSG:32648",
    )
    extra = gpd.GeoDataFrame(
        {"NAME": ["Côn Đảo"]}, geometry=[box(20, 20, 21, 21)], crs="EPSG:32648"
    )
    return vn.match_former_provinces(
        pd.concat([g, extra], ignore_index=True), name_field="NAME", require_all=True
    )


def test_dissolve_former_and_current():
    m = _all63()
    assert len(m) == 64
    f = vn.dissolve_former(m)
    assert len(f) == 63 and f.code.tolist() == sorted(T63.code)
    assert f.set_index("code").loc["77"].geometry.area == pytest.approx(2.0)
    c = vn.dissolve_to_current(f, require_all=True)
    assert len(c) == 34 and c.code.tolist() == sorted(T34.code)
    assert c.geometry.area.sum() == pytest.approx(m.geometry.area.sum())
    assert c.set_index("code").loc["79", "name_vi"] == "Thành phố Hồ Chí Minh"
    assert c.set_index("code").loc["79"].geometry.area == pytest.approx(
        4.0
    )  # 74 + 79 + 77 (2 parts)
    assert c.attrs["incomplete"] == []
    assert list(c.columns) == [
        "code",
        "name",
        "name_vi",
        "name_ascii",
        "slug",
        "kind",
        "former_codes",
        "geometry",
    ]


def test_dissolve_partial_study_area():
    m = _all63()
    part = m[m.code.isin(["02", "08", "04"])]
    c = vn.dissolve_to_current(part)
    assert c.code.tolist() == ["04", "08"] and c.attrs["incomplete"] == []
    c = vn.dissolve_to_current(m[m.code.isin(["02", "04"])])
    assert c.attrs["incomplete"] == ["08"]
    with pytest.raises(InputError, match="incomplete"):
        vn.dissolve_to_current(m[m.code.isin(["02", "04"])], require_all=True)
    with pytest.raises(InputError, match="match_former_provinces"):
        vn.dissolve_to_current(m.drop(columns="code"))


def test_aggregate_to_current_conserves_totals():
    rng = np.random.default_rng(1)
    t = pd.DataFrame(
        {"code": T63.code, "population": rng.random(63) * 1e6, "uncovered": rng.random(63) * 1e4}
    )
    a = vn.aggregate_to_current(t)
    assert len(a) == 34 and list(a.columns[:3]) == ["code", "name_vi", "slug"]
    assert a.population.sum() == pytest.approx(t.population.sum(), rel=1e-12)
    assert a.uncovered.sum() == pytest.approx(t.uncovered.sum(), rel=1e-12)
    hcm = t.set_index("code").loc[["74", "77", "79"], "population"].sum()
    assert a.set_index("code").loc["79", "population"] == pytest.approx(hcm)
    with pytest.raises(InputError):
        vn.aggregate_to_current(t, code_field="nope")


def test_slug_and_ascii_consistent():
    for t in (T63, T34):
        for r in t.itertuples():
            expect = re.sub(r"[^a-z]+", "-", r.name_ascii.lower()).strip("-")
            assert r.slug in (expect, expect.replace("thanh-pho-", "")), r


def test_is_mojibake():
    assert vn.is_mojibake(_mojibake("Đồng Tháp", "cp1252"))
    assert not any(vn.is_mojibake(n) for n in T63.name_vi)
    assert not vn.is_mojibake("Ho Chi Minh")

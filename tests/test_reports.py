"""Planner reports: i18n, figures helpers, XLSX/GPKG agree with summary.json, HTML escaping, PDF."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook

from covgap.errors import InputError
from covgap.grid import Grid
from covgap.report import i18n
from covgap.report.figures import figure_png, hillshade
from covgap.report.html import html_report
from covgap.report.maps import (
    coverage_map,
    escape_text,
    mercator_rows,
    offline_assets,
    png_data_uri,
)
from covgap.report.pdf import province_page, write_pdf_report
from covgap.report.tables import missing_technologies, province_view, ranked_units, remote_clusters

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "`${alert(3)}`\\"]
VI_MARKS = set("Đđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹàáâãèéêìíòóôõùúýă")


# ---------------------------------------------------------------- i18n
def test_every_label_exists_in_both_languages_and_vietnamese_has_diacritics():
    for key in i18n._LABELS:
        en, vi = i18n.label(key, "en"), i18n.label(key, "vi")
        assert en and vi, key
    assert i18n.label("population", "vi") == "Dân số"
    assert i18n.label("no_signal", "vi") == "Không có sóng di động"
    assert i18n.level_label("province", "vi") == "Tỉnh"
    assert i18n.level_label("commune", "vi") == "Xã"
    assert i18n.level_label("hamlet", "vi") == "Thôn/bản"
    assert i18n.label("gap_clusters", "vi") == "Cụm vùng lõm sóng"
    assert sum(bool(set(i18n.label(k, "vi")) & VI_MARKS) for k in i18n._LABELS) > 0.8 * len(i18n._LABELS)


def test_column_labels_and_number_formats():
    assert i18n.column_label("without_4G", "vi") == "Chưa có sóng 4G (người)"
    assert i18n.column_label("commune_name", "vi") == "Xã"
    assert i18n.column_label("border_belt_uncovered", "en") == "Border belt: without signal (people)"
    assert i18n.column_label("some_new_column", "vi") == "some_new_column"
    assert i18n.fmt_int(1234567.4, "vi") == "1.234.567"
    assert i18n.fmt_int(1234567.4, "en") == "1,234,567"
    assert i18n.fmt_pct(0.0267, "vi") == "2,7 %"
    assert i18n.status_label("no signal", "vi") == "không có sóng"
    with pytest.raises(InputError, match="lang"):
        i18n.label("population", "fr")


# ---------------------------------------------------------------- small helpers
def test_hillshade_flat_ground_and_sun_facing_slopes():
    g = Grid.from_bounds(0, 0, 50, 50, res=(10, 10), crs="EPSG:32648")
    flat = hillshade(np.zeros(g.shape), g)
    assert np.allclose(flat, np.sin(np.radians(45)))
    x = np.arange(g.nx, dtype=float) * 10
    rising_east = np.tile(x, (g.ny, 1))  # ground rises to the east: faces west, toward a NW sun
    rising_west = rising_east[:, ::-1]
    assert hillshade(rising_east, g)[2, 2] > flat[2, 2] > hillshade(rising_west, g)[2, 2]
    dem = np.zeros(g.shape)
    dem[2, 2] = np.nan
    assert np.isnan(hillshade(dem, g)[2, 2])


def test_mercator_rows_identity_at_equator_and_monotone():
    img = np.arange(100)[:, None]
    assert mercator_rows(img, -0.01, 0.01).ravel().tolist() == list(range(100))
    rows = mercator_rows(img, 8.0, 24.0).ravel()
    assert np.all(np.diff(rows) >= 0) and rows[0] == 0 and rows[-1] == 99


def test_escape_text_defuses_html_and_js_literals():
    for p in PAYLOADS:
        e = escape_text(p)
        assert not set(e) & set("<>\"'`\\$"), e
    assert escape_text("Thôn Bản Đông") == "Thôn Bản Đông"
    assert escape_text("a\nb") == "a b"


def test_png_data_uri_palette_and_rgba():
    rgba = np.zeros((4, 5, 4), dtype=np.uint8)
    rgba[1:3, 1:3] = (40, 170, 80, 180)
    uri = png_data_uri(rgba)
    assert uri.startswith("data:image/png;base64,")
    from base64 import b64decode
    from io import BytesIO

    from PIL import Image

    back = np.asarray(Image.open(BytesIO(b64decode(uri.split(",", 1)[1]))).convert("RGBA"))
    assert np.array_equal(back, rgba)


def test_missing_technologies_and_remote_clusters():
    t = pd.DataFrame({"population": [100.0, 50.0, 0.0], "covered_2G": [100.0, 50.0, 0.0],
                      "covered_3G": [100.0, 0.0, 0.0], "covered_4G": [40.0, 49.9, 0.0]})
    assert missing_technologies(t).tolist() == ["4G 60 %", "3G 100 %", ""]
    assert missing_technologies(t, lang="vi").tolist()[0] == "4G 60 %"
    c = pd.DataFrame({"population": [500.0, 499.0, 900.0], "distance_to_nearest_site_km": [5.1, 9.0, 5.0]})
    assert remote_clusters(c).index.tolist() == [0]


def test_offline_assets_inline_leaflet_without_network_links():
    a = offline_assets()
    assert "leaflet-control-layers" in a and "L.version" not in a.split("<style>")[0]
    assert "markerClusterGroup" in a
    assert not re.search(r"url\(images/", a)
    assert "</script" not in a.split("<script>", 1)[1].rsplit("</script>", 1)[0]


# ---------------------------------------------------------------- exports agree with summary.json
def _sheet_rows(ws, header_row=2):
    header = [c.value for c in ws[header_row]]
    return header, [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=header_row + 1)
                    if any(c.value is not None for c in r)]


def test_xlsx_every_level_clusters_hamlets_and_sources_agree_with_summary(demo_run):
    _, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    wb = load_workbook(out / "gap_report.xlsx")
    for level, sheet in (("province", "Provinces"), ("commune", "Communes")):
        ws = wb[sheet]
        assert ws.freeze_panes == "A3"
        header, rows = _sheet_rows(ws)
        want = {u["code"]: u for u in s["units"] if u["level"] == level}
        assert {r["code"] for r in rows} == set(want)
        for r in rows:
            for k in ("population", "uncovered", "covered_any"):
                assert r[k] == pytest.approx(want[r["code"]][k], rel=1e-9, abs=1e-6)
        col = header.index("population") + 1
        assert ws.cell(3, col).number_format == "#,##0"
        assert ws.cell(3, header.index("uncovered_share") + 1).number_format == "0.0%"
        assert ws.column_dimensions["B"].width >= 8
        assert ws.cell(2, col).comment is not None  # the human label
        assert "missing_technologies" in header
    _, cl = _sheet_rows(wb["Gap clusters"])
    assert len(cl) == s["gap_clusters"]["count"]
    assert sum(r["population"] for r in cl) == pytest.approx(s["gap_clusters"]["population"], rel=1e-9)
    _, hm = _sheet_rows(wb["Hamlets"])
    assert pd.Series([r["status"] for r in hm]).value_counts().to_dict() == s["hamlets"]
    header, src = _sheet_rows(wb["Sources"])
    assert "licence" in header
    assert [r["sha256"] for r in src if r["role"]][: len(s["inputs"])] == [i["sha256"] for i in s["inputs"]]
    summ = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=3) if r[0].value}
    assert summ["People without any mobile signal"] == pytest.approx(s["population_uncovered"], rel=1e-12)


def test_geopackage_layers_agree_with_summary(demo_run):
    _, out = demo_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for level in ("province", "commune"):
        g = pyogrio.read_dataframe(out / "gaps.gpkg", layer=f"admin_{level}")
        want = {u["code"]: u for u in s["units"] if u["level"] == level}
        assert set(g["code"]) == set(want)
        for r in g.itertuples():
            assert r.uncovered == pytest.approx(want[r.code]["uncovered"], rel=1e-9, abs=1e-6)
            assert r.population == pytest.approx(want[r.code]["population"], rel=1e-9, abs=1e-6)
    hm = pyogrio.read_dataframe(out / "gaps.gpkg", layer="hamlets")
    assert hm["status"].value_counts().to_dict() == s["hamlets"]
    towers = pyogrio.read_dataframe(out / "gaps.gpkg", layer="towers")
    assert len(towers) == s["sites"]["transmitters"]


def test_vietnamese_xlsx_for_one_province(demo_run, tmp_path):
    from covgap.report.exports import write_xlsx

    analysis, _ = demo_run
    code = ranked_units(analysis, "province")["code"].iloc[0]
    p = write_xlsx(analysis, tmp_path / "p.xlsx", lang="vi", province=code)
    wb = load_workbook(p)
    assert wb.sheetnames[:3] == ["Tổng hợp", "Các tỉnh", "Các xã"]
    assert wb.sheetnames[-1] == "Nguồn dữ liệu và giấy phép"
    ws = wb["Các tỉnh"]
    assert "SYNTHETIC DEMO" in ws["A1"].value and ws.freeze_panes == "A3"
    header, rows = _sheet_rows(ws)
    assert header[:4] == ["Mã", "Tên", "Cấp", "Dân số"] and len(rows) == 1
    _, communes = _sheet_rows(wb["Các xã"])
    prov = analysis.units["province"].set_index("code").loc[code]
    assert sum(r["Dân số"] for r in communes) == pytest.approx(prov["population"], rel=1e-9)
    assert sum(r["Không có sóng di động (người)"] for r in communes) == pytest.approx(prov["uncovered"], abs=1e-6)


# ---------------------------------------------------------------- HTML: content, offline, escaping
def test_html_report_is_offline_and_says_where_it_came_from(demo_run):
    _, out = demo_run
    text = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="synthetic-banner"' in text and "SYNTHETIC DEMO" in text
    assert not re.search(r"<(script|img|iframe)[^>]+src=\"https?:", text)
    assert not re.search(r"<link[^>]+href=\"https?:", text)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for u in s["units"]:
        if u["level"] == "province":
            assert escape_text(u["name"]) in text
    assert "BSD-3-Clause (generated)" in text  # licences of the inputs
    assert text.count("data:image/png;base64,") >= 3


def test_map_html_is_offline(demo_run):
    _, out = demo_run
    text = (out / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?:", text)
    assert not re.search(r"<link[^>]+href=\"https?:", text)
    assert "Leaflet" in text and "leaflet-control-layers" in text


def injected_analysis(analysis):
    """A deep copy of ``analysis`` whose names (study, units, operators, sites, hamlets, clusters) carry
    HTML/JS payloads."""
    a = copy.deepcopy(analysis)
    a.study.name = PAYLOADS[0]
    for lvl, tab in a.units.items():
        tab.loc[tab.index[0], "name"] = PAYLOADS[0]
        tab.loc[tab.index[1], "name"] = PAYLOADS[1]
        tab.loc[tab.index[0], "code"] = PAYLOADS[2]
        units = a.study.level(lvl).units
        units.loc[units.index[0], "name"] = PAYLOADS[0]
    ops = list(a.coverage.operators)
    sites = a.coverage.sites
    sites.loc[sites["operator"] == ops[0], "operator"] = PAYLOADS[1]
    sites.loc[sites.index[:3], "site_id"] = PAYLOADS[0]
    a.coverage.operators = (PAYLOADS[1],) + tuple(ops[1:])
    h = a.hamlets
    bad = h.index[h["status"] == "no signal"]
    h.loc[bad[0], "name"] = PAYLOADS[0]
    h.loc[bad[1], "name"] = PAYLOADS[2]
    h.loc[bad[0], "commune_name"] = PAYLOADS[1]
    a.clusters.loc[a.clusters.index[0], "province_name"] = PAYLOADS[0]
    a.clusters.loc[a.clusters.index[0], "commune_name"] = PAYLOADS[2]
    return a, str(h.loc[bad[0], "province_code"])


@pytest.fixture(scope="module")
def injected(demo_run):
    return injected_analysis(demo_run[0])


def _assert_no_raw_payload(text: str, *, js: bool = True) -> None:
    for p in PAYLOADS[: 3 if js else 2]:
        assert p not in text
    assert "<script>alert" not in text and "<img src=x" not in text
    if js:  # backticks and ${ only matter inside JavaScript template literals
        assert "`${alert" not in text


def test_every_html_output_escapes_names_from_data(injected):
    a, province = injected
    outputs = {
        "map": coverage_map(a).get_root().render(),
        "map_vi": coverage_map(a, lang="vi", tiles=None).get_root().render(),
        "report": html_report(a, lang="en"),
        "report_province_vi": html_report(a, province=province, lang="vi"),
        "notebook_table": ranked_units(a, "province")._repr_html_(),
    }
    for name, text in outputs.items():
        _assert_no_raw_payload(text, js=name != "notebook_table")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text or "&amp;lt;script&amp;gt;" in text, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outputs["report"]  # the tables show the name, escaped


# ---------------------------------------------------------------- PDF
def test_one_page_vietnamese_province_pdf(demo_run, tmp_path):
    analysis, _ = demo_run
    code = ranked_units(analysis, "province")["code"].iloc[0]
    p = write_pdf_report(analysis, tmp_path / "p.pdf", provinces=[code], national=False, lang="vi")
    data = p.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
    assert b"DejaVuSans" in data  # the font with Vietnamese glyphs is embedded
    assert "SYNTHETIC DEMO".encode("utf-16-be") in data  # metadata title (PDF text string, UTF-16)
    png = figure_png(province_page(analysis, code, lang="vi"), dpi=40)
    from io import BytesIO

    from PIL import Image

    img = np.asarray(Image.open(BytesIO(png)).convert("L"), dtype=float)
    assert img.shape[0] > img.shape[1]  # portrait
    assert img.std() > 10


def test_pdf_national_plus_every_province(demo_run):
    _, out = demo_run
    data = (out / "report.pdf").read_bytes()
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    n_prov = sum(u["level"] == "province" for u in s["units"])
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1 + n_prov


def test_province_view_by_name_and_unknown(demo_run):
    analysis, _ = demo_run
    row = analysis.units["province"].iloc[1]
    v = province_view(analysis, row["name"])
    assert v.code == row["code"]
    assert v.subunits["population"].sum() == pytest.approx(row["population"], rel=1e-9)
    with pytest.raises(InputError, match="no province"):
        province_view(analysis, "Atlantis")


# ---------------------------------------------------------------- national extent, real files
@pytest.mark.realdata
@pytest.mark.slow
def test_national_map_and_reports_stay_light_on_real_worldpop_and_63_provinces(tmp_path):
    """WorldPop 2020 1 km (1.6 M cells) + geoBoundaries ADM1 (63 former provinces), synthetic towers."""
    import geopandas as gpd
    from conftest import shared_vnm

    from covgap.analysis import analyse
    from covgap.io import read_population
    from covgap.overlay import rasterize_units
    from covgap.models.radius import RadiusModel
    from covgap.report.tables import scheme_tables
    from covgap.sites import validate_sites
    from covgap.study import AdminLevel, StudyArea
    from covgap.vietnam import dissolve_former, match_former_provinces

    d = shared_vnm()
    if not (d / "vnm_ppp_2020_1km_Aggregated_UNadj.tif").is_file():
        pytest.skip(f"real Vietnam files not found in {d}")
    pop, grid, _ = read_population(d / "vnm_ppp_2020_1km_Aggregated_UNadj.tif")
    adm = dissolve_former(match_former_provinces(gpd.read_file(d / "geoBoundaries-VNM-ADM1.shp")))
    adm = adm[["code", "name_vi", "geometry"]].rename(columns={"name_vi": "name"})
    rng = np.random.default_rng(7)
    cells = rng.choice(pop.size, 3000, p=(pop / pop.sum()).ravel())
    r, c = np.divmod(cells, grid.nx)
    lon, lat = grid.to_lonlat(grid.x_centres()[c], grid.y_centres()[r])
    ops = rng.choice(["Viettel", "VinaPhone", "MobiFone"], len(cells))
    rows = [(f"S{k}", ops[k], t, float(lon[k]), float(lat[k])) for k in range(len(cells)) for t in ("2G", "4G")]
    sites = validate_sites(pd.DataFrame(rows, columns=["site_id", "operator", "technology", "lon", "lat"]))[0]
    study = StudyArea(name="Việt Nam", grid=grid, population=pop, sites=sites, synthetic=True,
                      admin=[AdminLevel("province", adm, rasterize_units(adm, grid))])
    a = analyse(study, RadiusModel())
    html = coverage_map(a, tiles=None).get_root().render()
    assert len(html) < 4e6  # bounded: image overlays ≤ 1,600 px, simplified polygons
    n_features = html.count('"type": "Feature"') + html.count('"type":"Feature"')
    assert n_features <= 63 + len(a.clusters) + 5  # never one feature per grid cell
    schemes = scheme_tables(a)
    assert len(schemes["as_given"]) == 63 and len(schemes["34"]) == 34
    assert schemes["34"]["population"].sum() == pytest.approx(schemes["as_given"]["population"].sum(), rel=1e-9)
    report = html_report(a, lang="vi", interactive_map=False)
    assert "Báo cáo toàn vùng nghiên cứu" in report and "Cà Mau" in report


def test_coverage_probability_map_shows_the_location_probability(demo_run):
    """The probability map draws Φ((signal − threshold)/σL) of the best server (0/1 for the radius
    model), cell for cell in the display window, and refuses a technology the analysis does not have."""
    from covgap.report.figures import display_window, plot_coverage_probability

    analysis = demo_run[0]
    tech = sorted(analysis.coverage.technologies)[0]
    fig = plot_coverage_probability(analysis, tech)
    image = np.asarray(fig.axes[0].get_images()[0].get_array())
    idx, _ = display_window(analysis.study.grid, None)
    expected = analysis.coverage.technologies[tech].coverage_probability()[idx]
    assert np.array_equal(image, expected)
    assert set(np.unique(image)) <= {0.0, 1.0} and image.max() == 1.0  # radius: covered or not
    assert tech in fig.axes[0].get_title()
    assert figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="has"):
        plot_coverage_probability(analysis, "9G")


def test_land_cover_map_and_models_side_by_side(demo_run):
    """Notebook 02's pieces: the demo's inputs with land cover (load_inputs), the land-cover map in
    WorldCover colours cell for cell, and compare_models handing back each model's coverage."""
    import matplotlib.colors as mcolors

    from covgap.compare import compare_models
    from covgap.models.radius import RadiusModel
    from covgap.notebooks import load_inputs
    from covgap.report.figures import WORLDCOVER_COLOURS, display_window, plot_landcover

    analysis, demo = demo_run
    with pytest.raises(InputError, match="no land cover"):
        plot_landcover(analysis)  # a radius run does not read [landcover]
    cfg, study = load_inputs(demo_dir=demo)
    lc = study.landcover
    assert lc is not None and lc.classes.shape == analysis.study.grid.shape
    fig = plot_landcover(analysis, lc)
    image = np.asarray(fig.axes[0].get_images()[0].get_array())
    idx, _ = display_window(analysis.study.grid, None)
    classes = lc.classes[idx]
    for code in (10, 40, 80):  # forest, cropland, water are all on the demo
        assert (classes == code).any()
        np.testing.assert_allclose(image[classes == code][0], mcolors.to_rgb(WORLDCOVER_COLOURS[code]))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("R 15 m" in t for t in labels)
    coverages = {}
    totals, _ = compare_models(study, {"r": RadiusModel()}, coverages=coverages)
    assert set(coverages) == {"r"}
    unc = ~coverages["r"].any_covered()
    assert totals.loc["r", "population_uncovered"] == pytest.approx(float(study.population[unc].sum()))

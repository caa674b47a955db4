"""Text from the data written to a workbook is text, never a formula (OWASP "CSV Injection").

Names starting with ``=``, ``+``, ``-``, ``@`` (and a tab or a carriage return) are put into the
hamlets, the admin layers, the towers' site ids, the config's source and licence strings and a
planner's candidate list; every workbook covgap writes is read back with openpyxl. Tab and carriage
return are checked on a workbook of their own (a tab in a licence string would also reach the PDF,
where the font has no glyph for it).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from _corpus import copy_study

from covgap.report.exports import FORMULA_PREFIXES, defuse_formulas, save_workbook, write_province_package

PAYLOADS = {
    "=": '=HYPERLINK("http://evil.example","click")',
    "+": "+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
}
CONTROL = {"tab": "\t=1+1", "cr": "\r=2+2"}


@pytest.fixture(scope="module")
def poisoned(demo_run, tmp_path_factory):
    """A demo study whose names start with formula characters, run and planned: (study, run out, plan out)."""
    analysis, demo_out = demo_run
    root = tmp_path_factory.mktemp("inject")
    study = copy_study(demo_out, root / "study")
    inputs = study / "inputs"
    ham = pd.read_csv(inputs / "hamlets.csv", dtype=str)
    for i, text in enumerate(PAYLOADS.values()):
        ham.loc[i, "name"] = f"{text} hamlet"
    ham.to_csv(inputs / "hamlets.csv", index=False)
    towers = pd.read_csv(inputs / "towers.csv", dtype={"site_id": str})
    first = towers["site_id"].iloc[0]
    towers.loc[towers["site_id"] == first, "site_id"] = "=SITE()"
    towers.to_csv(inputs / "towers.csv", index=False)
    for layer, col in (("provinces", "name"), ("communes", "name")):
        g = gpd.read_file(inputs / "admin.gpkg", layer=layer)
        for i, text in enumerate(PAYLOADS.values()):
            g.loc[i, col] = f"{text} {layer}"
        g.to_file(inputs / "admin.gpkg", layer=layer, driver="GPKG", engine="pyogrio")
    cfg = study / "covgap.toml"
    text = cfg.read_text(encoding="utf-8")
    text = text.replace('source = "covgap synthetic demo", licence = "BSD-3-Clause (generated)" }',
                        'source = "=cmd|\' /C calc\'!A0", licence = "-licence" }', 1)
    text = text.replace('towers = { path = "inputs/towers.csv", source = "covgap synthetic demo", '
                        'licence = "BSD-3-Clause (generated)" }',
                        'towers = { path = "inputs/towers.csv", source = "@SUM(1)", licence = "+licence" }')
    cfg.write_text(text, encoding="utf-8")
    clusters = analysis.clusters.sort_values("population", ascending=False).head(len(PAYLOADS))
    cand = pd.DataFrame({"candidate_id": list(PAYLOADS.values()), "lon": clusters["centroid_lon"].to_numpy(),
                         "lat": clusters["centroid_lat"].to_numpy()})  # in the largest gaps: all chosen
    cand.to_csv(root / "candidates.csv", index=False)
    return study, root


@pytest.fixture(scope="module")
def workbooks(poisoned, demo_run):
    import contextlib
    import io

    study, root = poisoned
    run_out, plan_out = root / "run", root / "plan"
    with contextlib.redirect_stdout(io.StringIO()):
        from covgap.cli import main

        assert main(["run", str(study / "covgap.toml"), "--out", str(run_out), "-q", "--model", "radius"]) == 0
        assert main(["plan", str(study / "covgap.toml"), "--out", str(plan_out), "--budget", "4", "-q",
                     "--model", "radius", "--candidates", str(root / "candidates.csv"), "--no-generate",
                     "--no-upgrades"]) == 0
    from covgap.config import load_config
    from covgap.pipeline import analyse_config

    analysis = analyse_config(load_config(study / "covgap.toml"), model_kind="radius")
    code = analysis.units["province"]["code"].iloc[0]
    pkg = write_province_package(analysis, root / "package", code, lang="vi")
    return {"gap_report.xlsx": run_out / "gap_report.xlsx", "plan.xlsx": plan_out / "plan.xlsx",
            "province package": pkg["xlsx"]}


def _cells(path):
    wb = load_workbook(path)
    return [(ws.title, c) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("name", ["gap_report.xlsx", "plan.xlsx", "province package"])
def test_no_formula_cell_in_any_workbook(workbooks, name):
    cells = _cells(workbooks[name])
    formulas = [(t, c.coordinate, c.value) for t, c in cells if c.data_type == "f"]
    assert not formulas, formulas
    risky = [(t, c.coordinate) for t, c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_PREFIXES)]
    assert risky, "the poisoned names should reach this workbook"
    assert all(c.quotePrefix for t, c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_PREFIXES))


@pytest.mark.parametrize("prefix", list(PAYLOADS))
@pytest.mark.parametrize("name", ["gap_report.xlsx", "plan.xlsx"])
def test_names_starting_with_each_prefix_are_literal_text(workbooks, name, prefix):
    payload = PAYLOADS[prefix]
    hits = [c for _, c in _cells(workbooks[name]) if isinstance(c.value, str) and c.value.startswith(payload)]
    assert hits, f"{payload!r} not found in {name}"
    assert all(c.data_type == "s" and c.quotePrefix for c in hits)


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "@SUM(1)", "-licence", "+licence"])
def test_config_strings_in_the_sources_sheet_are_text(workbooks, text):
    hits = [c for t, c in _cells(workbooks["gap_report.xlsx"]) if t == "Sources" and c.value == text]
    assert hits and all(c.data_type == "s" and c.quotePrefix for c in hits)


def test_numbers_stay_numbers(workbooks):
    cells = _cells(workbooks["gap_report.xlsx"])
    numeric = [c for _, c in cells if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
    assert numeric and all(c.data_type == "n" and not c.quotePrefix for c in numeric)


@pytest.mark.parametrize("text", [*PAYLOADS.values(), *CONTROL.values(), "=1", "-", "@"])
def test_defuse_formulas_unit(tmp_path, text):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = text
    ws["A2"] = -5.5
    ws["A3"] = "plain"
    assert ws["A1"].data_type in ("f", "s")
    save_workbook(wb, tmp_path / "t.xlsx")
    back = load_workbook(tmp_path / "t.xlsx").active
    assert back["A1"].data_type == "s" and back["A1"].quotePrefix
    assert back["A1"].value.replace("\r", "\n") == text.replace("\r", "\n")  # XML reads CR back as LF
    assert back["A2"].value == -5.5 and back["A2"].data_type == "n"
    assert back["A3"].data_type == "s" and not back["A3"].quotePrefix
    expected = 0 if text.startswith("\r") else 1  # the CR came back as LF, which no spreadsheet runs
    assert defuse_formulas(load_workbook(tmp_path / "t.xlsx")) == expected

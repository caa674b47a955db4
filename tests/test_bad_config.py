"""Bad configs: every wrong key, type or value is one message naming the file, the section, the key,
the expected type and a fix; exit status 2, no traceback, no file written or changed."""

from __future__ import annotations

import re

import pytest

from _corpus import assert_clean_error, cli, cli_subprocess, copy_study, snapshot

from covgap.config import load_config, parse_config
from covgap.errors import ConfigError, DataFileError


def _sub(pattern: str, repl: str, *, count: int = 1):
    def edit(text: str) -> str:
        new, n = re.subn(pattern, repl, text, count=count, flags=re.M)
        assert n, f"pattern {pattern!r} not in the demo config"
        return new
    return edit


def _add(section: str, line: str):
    return _sub(rf"^\[{re.escape(section)}\]\n", f"[{section}]\n{line}\n")


#: (id, edit of the demo config text, strings the message must hold)
CASES = [
    ("synthetic-no", _sub(r"^synthetic = true", 'synthetic = "no"'),
     ('[study] synthetic = "no" (text)', "expected true or false")),
    ("synthetic-1", _sub(r"^synthetic = true", "synthetic = 1"), ("[study] synthetic = 1", "true or false")),
    ("snap-cells-true", _add("study", "snap_cells = true"), ("[study] snap_cells = true (a boolean)",
                                                            "expected a whole number", "snap_cells = 2")),
    ("snap-cells-float", _add("study", "snap_cells = 2.5"), ("[study] snap_cells = 2.5", "whole number")),
    ("snap-cells-negative", _add("study", "snap_cells = -1"), ("[study] snap_cells = -1", "≥ 0")),
    ("overlap-text", _add("study", 'overlap_tolerance_km2 = "small"'), ("[study] overlap_tolerance_km2",
                                                                       "expected a number")),
    ("study-name-number", _sub(r"^name = .*$", "name = 5"), ("[study] name = 5", "text in quotes")),
    ("study-unknown-key", _add("study", "synthtic = false"), ("unknown key 'synthtic' in [study]",
                                                             "Did you mean 'synthetic'")),
    ("min-population-text", _sub(r"^min_population = 10", 'min_population = "10"'),
     ('[gaps] min_population = "10" (text)', "expected a number", "min_population = 10")),
    ("min-population-negative", _sub(r"^min_population = 10", "min_population = -3"),
     ("[gaps] min_population = -3", "≥ 0")),
    ("min-population-typo", _sub(r"^min_population =", "min_populaton ="),
     ("unknown key 'min_populaton' in [gaps]", "Did you mean 'min_population'")),
    ("belt-text", _sub(r"^border_belt_km = 20.0", 'border_belt_km = "twenty"'),
     ('[gaps] border_belt_km = "twenty" (text)', "expected a number", "border_belt_km = 20.0")),
    ("belt-negative", _sub(r"^border_belt_km = 20.0", "border_belt_km = -5"),
     ("[gaps] border_belt_km = -5", "> 0")),
    ("belt-zero", _sub(r"^border_belt_km = 20.0", "border_belt_km = 0.0"), ("[gaps] border_belt_km = 0.0", "> 0")),
    ("belt-nan", _sub(r"^border_belt_km = 20.0", "border_belt_km = nan"),
     ("[gaps] border_belt_km = nan", "finite number")),
    ("belt-inf", _sub(r"^border_belt_km = 20.0", "border_belt_km = inf"), ("[gaps] border_belt_km = inf",)),
    ("belt-bool", _sub(r"^border_belt_km = 20.0", "border_belt_km = true"), ("[gaps] border_belt_km = true",)),
    ("connectivity-6", _sub(r"^connectivity = 8", "connectivity = 6"), ("[gaps] connectivity = 6", "4 or 8")),
    ("connectivity-text", _sub(r"^connectivity = 8", 'connectivity = "8"'), ('[gaps] connectivity = "8"',)),
    ("gap-technology", _add("gaps", 'technology = "6G"'), ('[gaps] technology = "6G"', '"4G"')),
    ("gap-technology-number", _add("gaps", "technology = 4"), ("[gaps] technology = 4",)),
    ("lang-fr", _sub(r'^lang = ".*"', 'lang = "fr"'), ('[report] lang = "fr"', '"en" or "vi"')),
    ("lang-bool", _sub(r'^lang = ".*"', "lang = true"), ("[report] lang = true",)),
    ("report-title-number", _add("report", "title = 3"), ("[report] title = 3", "text in quotes")),
    ("report-unknown", _add("report", 'colour = "red"'), ("unknown key 'colour' in [report]",)),
    ("model-kind-typo", _sub(r'^kind = ".*"', 'kind = "hat"'), ('[model] kind = "hat"', '"hata"')),
    ("model-kind-number", _sub(r'^kind = ".*"', "kind = 1"), ("[model] kind = 1",)),
    ("radius-text", _sub(r'^"4G" = 4.0', '"4G" = "4"'), ('[model.radius_km] 4G = "4" (text)', "expected a number")),
    ("radius-negative", _sub(r'^"4G" = 4.0', '"4G" = -5.0'), ("[model.radius_km] 4G = -5.0", "> 0")),
    ("radius-bool", _sub(r'^"4G" = 4.0', '"4G" = true'), ("[model.radius_km] 4G = true",)),
    ("radius-section-typo", _sub(r"^\[model.radius_km\]", "[model.radius_kms]"),
     ("unknown key 'radius_kms' in [model]", "Did you mean 'radius_km'")),
    ("hata-unknown", lambda t: t + "\n[model.hata]\nenviroment = \"rural\"\n", ("[model.hata]", "enviroment")),
    ("terrain-k-text", lambda t: t + "\n[model.terrain]\nk_factor = \"4/3\"\n",
     ('[model.terrain] k_factor = "4/3" (text)', "expected a number")),
    ("terrain-algorithm-number", lambda t: t + "\n[model.terrain]\nalgorithm = 3\n",
     ("[model.terrain] algorithm = 3", "text in quotes")),
    ("section-typo", _sub(r"^\[study\]", "[studdy]"), ("unknown key 'studdy' in [top level]", "Did you mean 'study'")),
    ("admin-code-number", _sub(r'^code_field = "code"', "code_field = 5"),
     ("[[admin]] #1 code_field = 5", "text in quotes", 'code_field = "code"')),
    ("admin-level-number", _sub(r'^level = "province"', "level = 2"), ("[[admin]] #1 level = 2",)),
    ("admin-no-name-field", _sub(r'^name_field = "name"\n', ""), ("[[admin]] #1 needs 'name_field'",)),
    ("admin-vietnam", _sub(r'^level = "province"', 'level = "province"\nvietnam = "former64"'),
     ('[[admin]] #1 vietnam = "former64"', '"former63"')),
    ("admin-unknown", _sub(r'^level = "commune"', 'level = "commune"\ncolour = 1'),
     ("unknown key 'colour' in [admin #2]",)),
    ("admin-as-table", lambda t: re.sub(r"\[\[admin\]\]", "[admin]", t, count=1).replace("[[admin]]", "[adminx]"),
     ("[admin] = a table", "expected a list")),
    ("towers-number", _sub(r"^towers = \{.*\}$", "towers = 5"), ("[inputs] towers = 5", "towers = \"inputs/towers.csv\"")),
    ("towers-path-number", _sub(r"^towers = \{.*\}$", "towers = { path = 5 }"), ("[inputs.towers] path = 5",)),
    ("towers-path-typo", _sub(r"^towers = \{.*\}$", 'towers = { pth = "inputs/towers.csv" }'),
     ("unknown key 'pth' in [inputs.towers]", "Did you mean 'path'")),
    ("towers-missing", _sub(r"^towers = \{.*\}\n", ""), ("[inputs] needs 'towers'",)),
    ("population-layer-number", _sub(r'^population = \{ path = "inputs/population.tif"',
                                     'population = { layer = 3, path = "inputs/population.tif"'),
     ("[inputs.population] layer = 3",)),
    ("border-arc-short", _sub(r'^border = \{ path = "inputs/admin.gpkg"',
                              'border = { arc_from = [104.0], path = "inputs/admin.gpkg"'),
     ("[inputs.border] arc_from = [104.0]", "at least 2")),
    ("landcover-typo", _add("landcover", 'tabel = "x.csv"'),
     ("unknown key 'tabel' in [landcover]", "Did you mean 'table'")),
    ("landcover-path-number", _sub(r'^path = "inputs/landcover.tif"', "path = 3"), ("[landcover] path = 3",)),
    ("landcover-coast-negative", _add("landcover", "coast_km = -1"), ("[landcover] coast_km = -1", "≥ 0")),
    ("landcover-class-height", lambda t: t + '\n[landcover.classes]\n"10" = { height_m = -3 }\n',
     ('[landcover.classes."10"] height_m = -3', "≥ 0")),
    ("landcover-class-tall", lambda t: t + '\n[landcover.classes]\n"10" = { height_m = 150 }\n',
     ('[landcover.classes."10"] height_m = 150',)),
    ("landcover-class-category", lambda t: t + '\n[landcover.classes]\n"50" = { category = 7 }\n',
     ('[landcover.classes."50"] category = 7', "one of 1, 2, 3, 4 or 5")),
    ("landcover-class-code", lambda t: t + '\n[landcover.classes]\n"forest" = { category = 4, height_m = 15 }\n',
     ("[landcover.classes]", "'forest' is not a class code")),
    ("landcover-class-typo", lambda t: t + '\n[landcover.classes]\n"10" = { heigth_m = 3 }\n',
     ("unknown key 'heigth_m' in [landcover.classes.\"10\"]", "Did you mean 'height_m'")),
    ("landcover-class-new-incomplete", lambda t: t + '\n[landcover.classes]\n"12" = { height_m = 3 }\n',
     ("[landcover.classes] '12'", "needs both category and height_m")),
    ("licence-number", _sub(r'licence = "BSD-3-Clause \(generated\)" \}', "licence = 3 }"),
     ("[inputs.population] licence = 3",)),
]


@pytest.fixture
def study(demo_run, tmp_path):
    _, out = demo_run
    return copy_study(out, tmp_path / "study")


@pytest.mark.parametrize("edit,must", [pytest.param(e, m, id=i) for i, e, m in CASES])
def test_bad_config_value(study, tmp_path, capsys, edit, must):
    cfg = study / "covgap.toml"
    cfg.write_text(edit(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    rc, stdout, err = cli(["run", cfg, "--out", out, "-q", "--model", "radius"], capsys)
    assert_clean_error(rc, err, must=(str(cfg), *must))
    assert not out.exists() and snapshot(tmp_path) == before
    with pytest.raises(ConfigError):  # the library raises the same error
        load_config(cfg)


@pytest.mark.parametrize("case", ["synthetic-no", "belt-text", "admin-code-number", "terrain-k-text"])
def test_bad_config_value_subprocess(study, tmp_path, case):
    edit, must = next((e, m) for i, e, m in CASES if i == case)
    cfg = study / "covgap.toml"
    cfg.write_text(edit(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    before = snapshot(tmp_path)
    rc, _, err = cli_subprocess(["run", cfg, "--out", tmp_path / "out", "-q"])
    assert_clean_error(rc, err, must=(str(cfg), *must))
    assert err.count("\n") == 1  # one line
    assert snapshot(tmp_path) == before


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


FILE_CASES = [
    ("not-utf8", lambda d: _write(d / "c.toml", '[study]\nname = "Hà Giang"\n'.encode("cp1258")),
     ("not UTF-8", "line 2", "save the file as UTF-8")),
    ("utf16", lambda d: _write(d / "c.toml", '[study]\nname = "x"\n'.encode("utf-16")), ("not UTF-8",)),
    ("folder", lambda d: (d / "cfgdir").mkdir() or (d / "cfgdir"), ("is a folder", "expected a TOML file")),
    ("folder-with-toml", lambda d: ((d / "cfgdir2").mkdir(), _write(d / "cfgdir2" / "covgap.toml", b"x"))[1].parent,
     ("is a folder (it holds covgap.toml)", "cfgdir2/covgap.toml")),
    ("empty", lambda d: _write(d / "c.toml", b""), ("the config file is empty", "covgap demo")),
    ("blank-and-comments", lambda d: _write(d / "c.toml", b"\n  # nothing yet\n\n"), ("empty",)),
    ("missing", lambda d: d / "nope.toml", ("does not exist", "check the path")),
    ("bad-syntax", lambda d: _write(d / "c.toml", b"[study\nname = 1\n"), ("not valid TOML", "line 1")),
    ("no-inputs", lambda d: _write(d / "c.toml", b'[study]\nname = "x"\n'), ("the config needs [inputs]",)),
    ("admin-empty", lambda d: _write(d / "c.toml", b'admin = []\n[inputs]\npopulation = "p.tif"\n'
                                     b'towers = "t.csv"\n'), ("[admin] = [] (a list)", "at least 1")),
]


@pytest.mark.parametrize("make,must", [pytest.param(mk, m, id=i) for i, mk, m in FILE_CASES])
def test_bad_config_file(tmp_path, capsys, make, must):
    cfg = make(tmp_path)
    before = snapshot(tmp_path)
    rc, _, err = cli(["run", cfg, "--out", tmp_path / "out", "-q"], capsys)
    assert_clean_error(rc, err, must=(str(cfg), *must))
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()
    with pytest.raises((ConfigError, DataFileError)):
        load_config(cfg)


def test_bad_config_file_subprocess_not_utf8(tmp_path):
    cfg = _write(tmp_path / "c.toml", '[study]\nname = "Hà Giang"\n'.encode("cp1258"))
    rc, _, err = cli_subprocess(["plan", cfg, "--out", tmp_path / "plan", "--budget", "2"])
    assert_clean_error(rc, err, must=(str(cfg), "not UTF-8"))


def test_bom_is_accepted_and_valid_configs_parse_as_before(study):
    cfg = study / "covgap.toml"
    text = cfg.read_text(encoding="utf-8")
    a = load_config(cfg)
    cfg.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    b = load_config(cfg)
    assert a == b and a.gaps.min_population == 10 and a.synthetic is True and a.snap_cells == 2


def test_several_problems_in_one_message(tmp_path):
    data = {"inputs": {"population": "p.tif", "towers": "t.csv"}, "gaps": {"min_population": "10",
            "border_belt_km": "twenty"},
            "admin": [{"level": "p", "path": "a.gpkg", "code_field": "c", "name_field": "n"}]}
    with pytest.raises(ConfigError) as e:
        parse_config(data, base=tmp_path, src="x.toml")
    lines = str(e.value).splitlines()
    assert lines == ['x.toml: [gaps] min_population = "10" (text); expected a number. Fix: e.g. min_population = 10.',
                     'x.toml: [gaps] border_belt_km = "twenty" (text); expected a number. '
                     "Fix: e.g. border_belt_km = 20.0."]


@pytest.mark.parametrize("rows,must", [
    ("10,Tree cover,4,-15\n", ("bad_table.csv, row 2 (code '10')", "height_m = -15.0")),
    ("10,Tree cover,9,15\n", ("bad_table.csv, row 2", "category = 9.0")),
    ("10,a,4,15\n10,b,4,15\n", ("bad_table.csv, row 3", "class 10 appears twice")),
    ("abc,a,4,15\n", ("bad_table.csv, row 2", "not a class code")),
])
def test_bad_landcover_table_file(study, tmp_path, capsys, rows, must):
    """A user's land-cover table is checked row by row when a P.1812 run loads it: file, row and fix named."""
    (study / "bad_table.csv").write_text("code,name,category,height_m\n" + rows, encoding="utf-8")
    cfg = study / "covgap.toml"
    cfg.write_text(_add("landcover", 'table = "bad_table.csv"')(cfg.read_text(encoding="utf-8")), encoding="utf-8")
    before = snapshot(tmp_path)
    rc, _, err = cli(["run", cfg, "--out", tmp_path / "out", "-q", "--model", "p1812"], capsys)
    assert_clean_error(rc, err, must=must)
    assert snapshot(tmp_path) == before


def test_missing_landcover_table_and_raster(study, tmp_path, capsys):
    cfg = study / "covgap.toml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(_add("landcover", 'table = "nowhere.csv"')(text), encoding="utf-8")
    rc, _, err = cli(["run", cfg, "--out", tmp_path / "out", "-q", "--model", "p1812"], capsys)
    assert_clean_error(rc, err, must=("nowhere.csv", "does not exist"))
    cfg.write_text(_sub(r'^path = "inputs/landcover.tif"', 'path = "inputs/nothing.tif"')(text), encoding="utf-8")
    rc, _, err = cli(["run", cfg, "--out", tmp_path / "out", "-q", "--model", "p1812"], capsys)
    assert_clean_error(rc, err, must=("nothing.tif", "does not exist"))

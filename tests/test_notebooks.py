"""Every notebook in notebooks/ executes without error on the demo (radius model, one shared demo
output and one analysis cache for all of them), and the runner's pieces work."""

from __future__ import annotations

import nbformat
import pytest

from covgap.errors import InputError
from covgap.notebooks import inject_parameters, load_analysis, main, notebook_paths

NOTEBOOKS = notebook_paths()


@pytest.fixture(scope="module")
def shared(demo_run, tmp_path_factory):
    """(demo folder, output folder, analysis cache folder) shared by all notebooks."""
    out = tmp_path_factory.mktemp("notebooks")
    return demo_run[1], out, out / ".cache"


def test_the_suite_is_numbered_and_complete():
    names = [p.stem for p in NOTEBOOKS]
    for want in ("01_study_area", "02_coverage_model", "03_gaps_by_province", "04_border_islands_remote",
                 "05_clusters_and_hamlets", "06_province_report", "07_where_to_build", "08_how_sure_are_we"):
        assert want in names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_on_the_demo(path, shared):
    from covgap.notebooks import execute_notebook

    demo, out, cache = shared
    params = {"CONFIG": None, "DEMO_DIR": str(demo), "MODEL": "radius", "LANG": "en", "OUT": str(out / path.stem),
              "CACHE_DIR": str(cache)}
    ipynb = execute_notebook(path, out, parameters=params, html=False)  # raises on any cell error
    nb = nbformat.read(ipynb, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "a code cell did not run"
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for c in code for o in c.outputs)
    if path.stem.startswith(("01", "03")):
        assert "SYNTHETIC DEMO" in text
    if path.stem.startswith("06"):
        files = sorted(p.suffix for p in (out / path.stem).iterdir())
        assert files == [".html", ".pdf", ".xlsx"]


def test_inject_parameters_after_the_tagged_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"),
                nbformat.v4.new_code_cell("A = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print(A)")]
    inject_parameters(nb, {"A": 2, "B": "x", "C": None})
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    ns: dict = {}
    exec(nb.cells[1].source + "\n" + nb.cells[2].source, ns)  # noqa: S102 - our own literal source
    assert (ns["A"], ns["B"], ns["C"]) == (2, "x", None)
    with pytest.raises(InputError, match="identifier"):
        inject_parameters(nb, {"not valid": 1})
    nb.cells[1].metadata["tags"] = []
    nb.cells = nb.cells[:2]
    with pytest.raises(InputError, match="parameters"):
        inject_parameters(nb, {"A": 3})


def test_load_analysis_cache_is_reused(demo_run, tmp_path, monkeypatch):
    import covgap.pipeline

    analysis, demo = demo_run
    calls = []

    def fake_analyse_config(cfg, *, model_kind=None, progress=False):
        calls.append(model_kind)
        return analysis

    monkeypatch.setattr(covgap.pipeline, "analyse_config", fake_analyse_config)
    a = load_analysis(demo_dir=demo, model="radius", cache_dir=tmp_path)
    pkl = list(tmp_path.glob("analysis-*.pkl"))
    assert len(pkl) == 1 and calls == ["radius"]
    b = load_analysis(demo_dir=demo, model="radius", cache_dir=tmp_path)
    assert calls == ["radius"]  # the second call read the pickle
    assert a.summary()["population_uncovered"] == b.summary()["population_uncovered"]
    load_analysis(demo_dir=demo, model="hata", cache_dir=tmp_path)  # another model: another key
    assert calls == ["radius", "hata"] and len(list(tmp_path.glob("analysis-*.pkl"))) == 2
    with pytest.raises(InputError, match="not found"):
        load_analysis(tmp_path / "missing.toml")


def test_cli_rejects_unknown_notebook(capsys):
    with pytest.raises(SystemExit):
        main(["--only", "99_nothing", "--out", "unused"])
    assert "matches none" in capsys.readouterr().err

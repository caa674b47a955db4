"""Run a whole analysis from a config into an output folder, atomically.

Outputs are written to a hidden staging folder next to ``out_dir`` and moved into place
only when every step succeeded, so a failed run leaves no partial output behind.
"""

from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .analysis import Analysis, analyse
from .config import Config, load_config
from .constants import DEMO_MODEL_KIND
from .errors import ModelRangeWarning
from .io import load_study_area
from .models import make_model
from .outdir import OUTPUT_MARKER, staging_dir
from .report import coverage_map, write_geopackage, write_rasters, write_summary, write_xlsx

__all__ = ["run", "run_demo", "analyse_config", "run_uncertainty",
           "write_outputs", "demo_config_text", "staging_dir", "OUTPUT_MARKER",
           "protected_paths"]

def protected_paths(cfg: Config, *extra: tuple[str, str | Path | None]) -> dict[str, Path]:
    """The files an output folder must not hold (and so never replace): the config and every input."""
    out: dict[str, Path] = {}
    if cfg.path is not None:
        out["config being run"] = Path(cfg.path)
    for role, ref in cfg.inputs().items():
        out[f"input {role!r}"] = Path(ref.path)
    for role, path in extra:
        if path is not None:
            out[role] = Path(path)
    return out


def write_outputs(analysis: Analysis, directory: str | Path, *, progress: bool = False,
                  lang: str = "en") -> dict[str, Path]:
    """Write summary.json, gap_report.xlsx, gaps.gpkg, GeoTIFFs, map.html, report.html and report.pdf
    into ``directory`` (report labels in ``lang``)."""
    from .report.html import write_html_report
    from .report.pdf import write_pdf_report

    d = Path(directory)
    steps = ["summary.json", "gap_report.xlsx", "gaps.gpkg", "rasters", "map.html", "report.html", "report.pdf"]
    out: dict[str, Path] = {}
    for step in tqdm(steps, desc="writing outputs", disable=not progress, leave=False):
        if step == "summary.json":
            out[step] = write_summary(analysis, d / step)
        elif step == "gap_report.xlsx":
            out[step] = write_xlsx(analysis, d / step, lang=lang)
        elif step == "gaps.gpkg":
            out[step] = write_geopackage(analysis, d / step)
        elif step == "rasters":
            for p in write_rasters(analysis, d):
                out[p.name] = p
        elif step == "report.html":
            out[step] = write_html_report(analysis, d / step, lang=lang)
        elif step == "report.pdf":
            out[step] = write_pdf_report(analysis, d / step, lang=lang)
        else:
            coverage_map(analysis, lang=lang).save(str(d / step))
            out[step] = d / step
    return out


def analyse_config(cfg: Config, *, model_kind: str | None = None, progress: bool = False,
                   tiling: dict[str, Any] | None = None) -> Analysis:
    """Load the inputs named by ``cfg`` and analyse them (no files written).

    ``tiling``: compute coverage tile by tile (and on ``tiling["executor"]``, e.g. a Dask
    client): keyword arguments of :class:`covgap.tiling.TiledModel` (``tile_size``,
    ``executor``, ``workdir``, ``numba_threads``). Same result as untiled.

    Model-range warnings (a model used outside its published validity range) are collected
    into ``summary()["notes"]["model_warnings"]``, shown in the reports and printed by the CLI.
    """
    bar = tqdm(total=2, desc="covgap", disable=not progress)
    bar.set_postfix_str("loading inputs")
    kind = model_kind or cfg.model.kind
    study = load_study_area(cfg, read_landcover=kind == "p1812")  # only P.1812 reads land cover
    bar.update()
    model = make_model(cfg.model, has_dem=study.dem is not None, kind=model_kind, landcover=study.landcover)
    if tiling is not None:
        from .tiling import TiledModel

        model = TiledModel(model, **tiling)
    bar.set_postfix_str(f"coverage ({model.name} model), overlay, gaps")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelRangeWarning)
        analysis = analyse(study, model, min_population=cfg.gaps.min_population,
                           connectivity=cfg.gaps.connectivity, gap_technology=cfg.gaps.technology,
                           border_belt_km=cfg.gaps.border_belt_km, progress=progress,
                           count_foreign=cfg.gaps.count_foreign, thin_radius_km=cfg.gaps.thin_radius_km,
                           thin_min_sites=cfg.gaps.thin_min_sites)
    for w in caught:  # model-range warnings go into the reports; anything else is passed on
        if issubclass(w.category, ModelRangeWarning):
            msgs = study.notes.setdefault("model_warnings", [])
            if str(w.message) not in msgs:
                msgs.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if cfg.uncertainty is not None:
        bar.set_postfix_str(f"uncertainty ensemble ({cfg.uncertainty.members} members)")
        run_uncertainty(cfg, analysis, model, progress=progress)
    bar.update()
    bar.close()
    return analysis


def run_uncertainty(cfg: Config, analysis: Analysis, model, *, progress: bool = False) -> Analysis:
    """Run the ``[uncertainty]`` ensemble of ``cfg`` around ``analysis`` and write its ranges into it.

    The alternative population grids are read here (:func:`covgap.io.read_population`) and put
    on the study grid without interpolating people (:func:`covgap.compare.layer_on_grid`).
    """
    from .compare import layer_on_grid
    from .io import read_population
    from .uncertainty import attach_ensemble, run_ensemble, spec_from_config

    if cfg.uncertainty is None:
        return analysis
    study = analysis.study
    layers = {}
    moved: list[str] = []
    for ref in cfg.uncertainty.population:
        arr, grid, _ = read_population(ref)
        on_grid, info = layer_on_grid(arr, grid, study.grid)
        name = ref.path.stem if ref.path.stem not in layers and ref.path.stem != "run" else str(ref.path)
        layers[name] = on_grid
        if info["aggregation"] != "same grid" or info["outside_grid"] > 0:
            moved.append(f"population grid {name!r}: {info['aggregation']}; {info['outside_grid']:,.1f} people "
                         "outside the study grid (not counted in its members)")
    spec = spec_from_config(cfg.uncertainty, layers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)  # said once by the deterministic run
        result = run_ensemble(study, model, spec, analysis=analysis, progress=progress)
    result.notes.extend(moved)
    if cfg.population_adjust is not None and layers:
        result.notes.append("the alternative population grids are not adjusted to [population] adjust_to; "
                            "only the run's own grid is")
    return attach_ensemble(analysis, result)


def run(cfg: Config, out_dir: str | Path, *, model_kind: str | None = None, progress: bool = False,
        tiling: dict[str, Any] | None = None) -> Analysis:
    """Analyse the inputs named by ``cfg`` and write every output into ``out_dir`` (atomically).

    ``tiling``: see :func:`analyse_config`. ``out_dir`` is replaced only under the rules of
    :func:`covgap.outdir.check_out_dir` (never when it holds the config, an input or a file
    covgap did not write there).
    """
    workdir = (tiling or {}).get("workdir")
    protect = protected_paths(cfg, ("tile folder (--tile-dir)", workdir))
    with staging_dir(out_dir, command="run", protect=protect) as tmp:
        analysis = analyse_config(cfg, model_kind=model_kind, progress=progress, tiling=tiling)
        write_outputs(analysis, tmp, progress=progress, lang=cfg.report.lang)
    return analysis


def demo_config_text(*, model_kind: str = DEMO_MODEL_KIND, lang: str = "en") -> str:
    """The demo's config file (TOML), as written next to its outputs."""
    text = (resources.files("covgap") / "templates" / "demo.toml").read_text(encoding="utf-8")
    return text.replace("{model_kind}", model_kind).replace("{lang}", lang)


def run_demo(out_dir: str | Path, *, model_kind: str = DEMO_MODEL_KIND, lang: str = "en", progress: bool = False) -> Analysis:
    """Generate the embedded SYNTHETIC demo region and analyse it into ``out_dir``.

    ``out_dir`` receives ``inputs/`` (the generated data), ``covgap.toml`` (the config used:
    copy and edit it for real data) and every output of :func:`run`.
    """
    from .demo import make_demo_inputs

    with staging_dir(out_dir, command="demo") as tmp:
        make_demo_inputs(tmp / "inputs")
        cfg_path = tmp / "covgap.toml"
        cfg_path.write_text(demo_config_text(model_kind=model_kind, lang=lang), encoding="utf-8")
        analysis = analyse_config(load_config(cfg_path), progress=progress)
        write_outputs(analysis, tmp, progress=progress, lang=lang)
    return analysis

"""Run the notebook suite: ``python -m covgap.notebooks --out out/notebooks`` (``make notebooks``).

The notebooks live in ``notebooks/`` as jupytext *percent* scripts (``01_study_area.py`` …).
Each has a cell tagged ``parameters``; :func:`execute_notebook` adds a cell tagged
``injected-parameters`` after it (as papermill does), executes the notebook with nbclient and
writes the executed ``.ipynb`` and an HTML copy.

By default the embedded SYNTHETIC demo is generated once into ``OUT/demo`` and every notebook
reads it (``DEMO_DIR``); pass ``--config`` to run the same notebooks on real data.

:func:`load_analysis` is what the notebooks call to get an :class:`~covgap.analysis.Analysis`
from their parameters.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["load_analysis", "load_inputs", "population_layers", "notebook_paths", "inject_parameters", "execute_notebook", "run_all",
           "main"]

_ROOT = Path(__file__).resolve().parents[2]


def _cache_key(config: Path, model: str | None) -> str:
    """Hash of everything an analysis depends on that can change between runs of one code version:
    the config text, the size and mtime of every file beside it under ``inputs``, the model, the version."""
    import hashlib

    from . import __version__

    h = hashlib.sha256()
    h.update(config.read_bytes())
    h.update(f"{model}|{__version__}|{config.resolve()}".encode())
    from .config import load_config

    cfg = load_config(config)
    refs = [cfg.population, cfg.towers] + [a.ref for a in cfg.admin]
    for name in ("dem", "hamlets", "border"):
        r = getattr(cfg, name, None)
        if r is not None:
            refs.append(r)
    for r in refs:
        p = Path(getattr(r, "path", ""))
        if p.is_file():
            st = p.stat()
            h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def load_analysis(config: str | Path | None = None, *, demo_dir: str | Path | None = None, model: str | None = "radius",
                  cache_dir: str | Path | None = None, progress: bool = False):
    """The analysis a notebook works on.

    Parameters
    ----------
    config : path, optional
        A ``covgap.toml``. ``None`` means the embedded SYNTHETIC demo.
    demo_dir : path, optional
        With ``config=None``: a folder written by ``covgap demo`` to reuse (its ``covgap.toml``);
        when absent the demo inputs are generated into a temporary folder.
    model : str, optional
        ``radius``, ``hata``, ``terrain``, ``auto``, or ``None`` for the config's choice.
    cache_dir : path, optional
        Keep the analysis as a pickle there and reuse it while the config, the input files (size,
        mtime), the model and the covgap version are unchanged. The notebook runner uses one cache
        for all notebooks of a run, so the analysis is computed once. Pickles are only for this
        machine and this code version: never load one you did not write.
    """
    from .config import load_config
    from .pipeline import analyse_config

    path = _config_path(config, demo_dir, model)
    cached = None
    if cache_dir is not None:
        import pickle

        cached = Path(cache_dir) / f"analysis-{_cache_key(path, model)}.pkl"
        if cached.is_file():
            with cached.open("rb") as f:
                return pickle.load(f)
    analysis = analyse_config(load_config(path), model_kind=model, progress=progress)
    if cached is not None:
        import os
        import pickle

        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(analysis, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cached)
    return analysis


def _config_path(config: str | Path | None, demo_dir: str | Path | None, model: str | None = None) -> Path:
    """The config a notebook reads: ``config``, the demo folder's, or freshly written demo inputs."""
    from .pipeline import demo_config_text

    if config is None:
        if demo_dir is not None and (Path(demo_dir) / "covgap.toml").is_file():
            config = Path(demo_dir) / "covgap.toml"
        else:
            import tempfile

            from .demo import make_demo_inputs

            tmp = Path(tempfile.mkdtemp(prefix="covgap-demo-"))
            make_demo_inputs(tmp / "inputs")
            config = tmp / "covgap.toml"
            config.write_text(demo_config_text(model_kind=model or "auto"), encoding="utf-8")
    path = Path(config)
    if not path.is_file():
        raise InputError(f"config file {path} not found. Fix: set CONFIG to a covgap.toml, or None for the demo.")
    return path


def load_inputs(config: str | Path | None = None, *, demo_dir: str | Path | None = None):
    """``(Config, StudyArea)`` of a notebook's config (the same resolution as :func:`load_analysis`),
    with every input read, land cover included, and no coverage computed: for comparing models
    (``covgap.compare.compare_models``) and drawing the inputs."""
    from .config import load_config
    from .io import load_study_area

    cfg = load_config(_config_path(config, demo_dir))
    return cfg, load_study_area(cfg)


def population_layers(analysis, paths: Mapping[str, str | Path] | None = None, *,
                      demo_dir: str | Path | None = None) -> dict[str, Any]:
    """Population layers for :func:`covgap.compare.compare_population_layers`: the analysis' own people
    (``"as analysed"``) plus one layer per file of ``paths`` (name → raster, read with nodata = 0; on
    another grid they are aggregated by sums). With ``paths=None`` on the SYNTHETIC demo: its
    ``constrained`` and ``unconstrained`` variants (from ``demo_dir``/inputs, or generated anew with
    the same seed); on real data with ``paths=None``: only the analysis' own layer.
    """
    from .io import read_population

    layers: dict[str, Any] = {"as analysed": analysis.study.population}
    if paths is None and analysis.study.synthetic:
        inputs = Path(demo_dir) / "inputs" if demo_dir is not None else None
        if inputs is None or not (inputs / "population_constrained.tif").is_file():
            import tempfile

            from .demo import make_demo_inputs

            inputs = Path(tempfile.mkdtemp(prefix="covgap-demo-layers-"))
            make_demo_inputs(inputs)
        paths = {k: inputs / f"population_{k}.tif" for k in ("constrained", "unconstrained")}
    for name, path in (paths or {}).items():
        pop, grid, _ = read_population(path)
        layers[str(name)] = (pop, grid)
    return layers


def notebook_paths(directory: str | Path | None = None) -> list[Path]:
    """The numbered notebooks (``NN_*.py``) in ``directory`` (default: the repository's ``notebooks/``)."""
    d = Path(directory) if directory is not None else _ROOT / "notebooks"
    paths = sorted(p for p in d.glob("[0-9][0-9]_*.py"))
    if not paths:
        raise InputError(f"no notebooks (NN_name.py) in {d}. Fix: pass --notebooks DIR.")
    return paths


def inject_parameters(nb, parameters: Mapping[str, Any]):
    """Add a cell tagged ``injected-parameters`` after the ``parameters`` cell (in place; returns ``nb``).

    Values are written with :func:`repr`, so they must be Python literals (str, numbers, None, lists).
    """
    import nbformat

    if not parameters:
        return nb
    for k, v in parameters.items():
        if not k.isidentifier():
            raise InputError(f"notebook parameter name {k!r} is not a Python identifier.")
        ast.literal_eval(repr(v))  # raises for values that are not literals
    src = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    idx = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if idx is None:
        raise InputError("the notebook has no cell tagged 'parameters'. Fix: tag its first code cell "
                         "(jupytext: `# %% tags=[\"parameters\"]`).")
    nb.cells.insert(idx + 1, cell)
    return nb


def execute_notebook(path: str | Path, out_dir: str | Path, *, parameters: Mapping[str, Any] | None = None,
                     html: bool = True, timeout_s: int = 900, kernel_name: str = "python3") -> Path:
    """Execute one jupytext notebook; write ``out_dir/NAME.ipynb`` (and ``NAME.html``). Returns the ipynb path.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        When a cell fails; the partly executed notebook is still written, for reading the traceback.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    path, out_dir = Path(path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(path)
    inject_parameters(nb, dict(parameters or {}))
    nb.metadata["kernelspec"] = {"name": kernel_name, "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=timeout_s, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(out_dir)}})
    target = out_dir / (path.stem + ".ipynb")
    try:
        client.execute()
    finally:
        nbformat.write(nb, target)
        if html:
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_notebook_node(nb)
            (out_dir / (path.stem + ".html")).write_text(body, encoding="utf-8")
    return target


def run_all(out_dir: str | Path, *, config: str | Path | None = None, demo_dir: str | Path | None = None,
            notebooks: Sequence[str | Path] | None = None, model: str = "radius", lang: str = "en",
            html: bool = True, extra: Mapping[str, Any] | None = None, log=print) -> list[Path]:
    """Execute every notebook with the same inputs; returns the executed ``.ipynb`` paths.

    With neither ``config`` nor ``demo_dir`` the SYNTHETIC demo is run once into ``out_dir/demo``.
    Each notebook gets ``CONFIG``, ``DEMO_DIR``, ``MODEL``, ``LANG``, ``OUT`` (its own folder
    under ``out_dir``) and ``CACHE_DIR`` (one analysis cache for the run) plus ``extra``.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in notebooks] if notebooks else notebook_paths()
    if config is None and demo_dir is None:
        from .pipeline import run_demo

        demo_dir = out_dir / "demo"
        log(f"running the SYNTHETIC demo once into {demo_dir}")
        run_demo(demo_dir, model_kind=model, lang=lang)
    done = []
    for p in paths:
        t0 = time.perf_counter()
        params = {"CONFIG": None if config is None else str(Path(config).resolve()),
                  "DEMO_DIR": None if demo_dir is None else str(Path(demo_dir).resolve()),
                  "MODEL": model, "LANG": lang, "OUT": str(out_dir / p.stem),
                  "CACHE_DIR": str(out_dir / ".cache")}
        params.update(extra or {})
        done.append(execute_notebook(p, out_dir, parameters=params, html=html))
        log(f"{p.name}: executed in {time.perf_counter() - t0:.1f} s -> {done[-1]}")
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m covgap.notebooks --out out/notebooks [--config covgap.toml]``."""
    ap = argparse.ArgumentParser(prog="python -m covgap.notebooks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="out/notebooks", help="folder for executed .ipynb and .html")
    ap.add_argument("--config", help="covgap.toml for real data (default: the SYNTHETIC demo)")
    ap.add_argument("--demo-dir", help="reuse a folder written by `covgap demo`")
    ap.add_argument("--model", default="radius", help="radius | hata | terrain | auto (default radius)")
    ap.add_argument("--lang", default="en", choices=("en", "vi"))
    ap.add_argument("--only", nargs="*", help="notebook numbers or names to run, e.g. 03 06")
    ap.add_argument("--notebooks", help="folder of the notebooks (default: the repository's notebooks/)")
    ap.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    args = ap.parse_args(argv)
    paths = notebook_paths(args.notebooks)
    if args.only:
        paths = [p for p in paths if any(p.name.startswith(o) or p.stem == o for o in args.only)]
        if not paths:
            ap.error(f"--only {args.only} matches none of the notebooks")
    try:
        run_all(args.out, config=args.config, demo_dir=args.demo_dir, notebooks=paths, model=args.model,
                lang=args.lang, html=not args.no_html)
    except Exception as exc:  # report the failing notebook cleanly on the command line
        print(f"covgap.notebooks: {type(exc).__name__}: {str(exc)[:4000]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

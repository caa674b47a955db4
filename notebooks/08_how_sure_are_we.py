# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 — How sure are we?
#
# Every figure in the other notebooks is one number: "this commune has 812 people without signal".
# The inputs behind it are uncertain:
#
# * **link budgets** are typical values (transmit power, cable and body losses, the receiver
#   threshold): a few dB either way is normal;
# * the signal varies from place to place around the model's median (**location variability**,
#   about 5.5 dB for the Hata and terrain models, ITU-R P.1546-6 §12);
# * **tower positions** from OpenCelliD are averaged phone fixes, often hundreds of metres off;
# * **population grids** disagree (constrained vs unconstrained WorldPop, GHS-POP…).
#
# This notebook runs an **ensemble**: many versions ("members") of the same analysis, each with
# the inputs drawn from their spread, and reports for each unit the people without signal at
# P10, P50 and P90 (10 % of the members give fewer than P10, 10 % more than P90). Then it asks
# **which input drives the spread**, by varying one input at a time.
#
# Everything is computed by `covgap.uncertainty`; this notebook only chooses parameters. The same
# ensemble runs from the config: an `[uncertainty]` section makes `covgap run` add the ranges to
# summary.json, the XLSX, the HTML/PDF report and the map.

# %% tags=["parameters"]
CONFIG = None              # path to a covgap.toml; None = the embedded SYNTHETIC demo
DEMO_DIR = None            # folder written by `covgap demo` to reuse (None: generate the demo inputs)
MODEL = "terrain"          # the ensemble needs a model with a signal: hata | terrain | p1812
ENSEMBLE_MODEL = "terrain"  # used when MODEL is radius (the radius model has no signal to vary)
LANG = "en"                # en | vi
OUT = "out/notebooks/08_how_sure_are_we"
CACHE_DIR = None           # folder to keep the analysis in, shared by the notebooks of one run
members = 30               # ensemble members (the benchmark and the reports use 50)
seed = 2021                # same seed, same members: results are reproducible
link_budget_db = 3.0       # 1-sigma of the link-budget offset, every technology (dB)
location_db = "model"      # 1-sigma of the location draw (dB), or "model" for the model's own
location_correlation_m = 120.0  # correlation distance of the location draw (m)
tower_position_m = 300.0   # 1-sigma of a tower's position error per axis (m)
tower_members = 6          # members for the (slower) tower-position ensemble: each recomputes coverage
top_n = 3                  # "how often is a unit among the N with the most people without signal"
level = None               # admin level of the tables (None: the finest)

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
import matplotlib.pyplot as plt
import pandas as pd

from covgap import planning
from covgap.compare import layer_on_grid
from covgap.errors import ModelRangeWarning
from covgap.notebooks import load_analysis, population_layers
from covgap.uncertainty import EnsembleSpec, run_ensemble, sensitivity

warnings.simplefilter("ignore", ModelRangeWarning)  # said once by the analysis (summary.json notes)
kind = MODEL if MODEL in ("hata", "terrain", "p1812") else ENSEMBLE_MODEL
analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=kind, cache_dir=CACHE_DIR)
study, model = analysis.study, planning.model_of(analysis)
s = analysis.summary()
level = level or list(analysis.units)[-1]
print(s["title"])
print(f"model {model.name}: {s['population_uncovered']:,.0f} people without any signal (one run)")

# %% [markdown]
# ## The inputs' spread
# The alternative population grids are the demo's constrained and unconstrained variants (on real
# data: the files given in `[uncertainty] population`, or none). Each member draws one grid, the
# run's own included, with equal chance.

# %%
layers = population_layers(analysis, demo_dir=DEMO_DIR)
alternatives = {k: layer_on_grid(*v, study.grid)[0] for k, v in layers.items() if k != "as analysed"}
spec = EnsembleSpec(members=members, seed=seed, link_budget_db={"*": link_budget_db}, location_db=location_db,
                    location_correlation_m=location_correlation_m, population=alternatives, top_n=top_n)
pd.Series(spec.as_dict()).to_frame("value")

# %% [markdown]
# ## The ensemble
# The signal of every transmitter is computed **once** (a little further out than the run needs,
# so that a member with a stronger link budget is not cut off). Each member then only shifts the
# signal by its link-budget offset and its location field, compares with the threshold and sums
# people per unit, which is why 50 members cost less than two runs (benchmark B9).

# %%
ens = run_ensemble(study, model, spec, analysis=analysis)
t = ens.totals
print(f"people without any signal: one run {t['deterministic']:,.0f}; ensemble P10 {t['p10']:,.0f}, "
      f"P50 {t['p50']:,.0f}, P90 {t['p90']:,.0f}")
print("seconds:", {k: round(v, 1) for k, v in ens.timings.items()})
for n in ens.notes:
    print("note:", n)

# %% [markdown]
# Per unit: the one-run figure, the range, and how often the unit is among the `top_n` units with
# the most people without signal. A unit with `top_n_share` of 1.0 is in the top group whatever
# the inputs; one at 0.4 is there only under some of them — rank it with care.

# %%
det = analysis.units[level][["code", "name", "population", "uncovered"]]
table = det.merge(ens.units[level][["code", "uncovered_p10", "uncovered_p50", "uncovered_p90", "top_n_share"]],
                  on="code").sort_values("uncovered_p50", ascending=False)
table.head(15).round(1)

# %%
top = table.head(15).iloc[::-1]
fig, ax = plt.subplots(figsize=(7, 5))
ax.hlines(top["name"], top["uncovered_p10"], top["uncovered_p90"], color="#c00000", lw=4, alpha=0.5,
          label="P10–P90 of the ensemble")
ax.plot(top["uncovered_p50"], top["name"], "o", color="#c00000", label="P50")
ax.plot(top["uncovered"], top["name"], "k|", ms=12, label="one run")
ax.set_xlabel("people without any signal")
ax.set_title(f"{s['title']}: people without signal per {level}")
ax.legend(loc="lower right")

# %% [markdown]
# **Why does the ensemble lean above the one-run figure?** The one run counts a cell as covered
# when the *median* signal reaches the threshold. A member shifts the signal up or down; far more
# people live just above the threshold (in towns near towers) than just below it, so a symmetric
# error in dB uncovers more people than it covers, and P50 usually sits above the one-run figure
# (sometimes even P10 does, for a unit whose people all live near the edge of coverage). The
# one-run figure is then the optimistic end of what the inputs allow.
#
# ## The probability of no signal
# Per cell, the share of members without any signal there (also written by `covgap run` as
# `no_signal_probability.tif` and drawn on its map). Hamlets get the same probability.

# %%
fig, ax = plt.subplots(figsize=(7, 5.5))
im = ax.imshow(ens.no_signal_probability, cmap="Reds", vmin=0, vmax=1)
ax.set_axis_off()
fig.colorbar(im, ax=ax, shrink=0.7, label="probability of no signal")
ax.set_title("Share of ensemble members without any signal")

# %%
if analysis.hamlets is not None:
    h = analysis.hamlets[["name", "status"]].assign(p_no_signal=ens.hamlets["p_no_signal"].to_numpy())
    unsure = h[(h["p_no_signal"] > 0.1) & (h["p_no_signal"] < 0.9)]
    print(f"{len(unsure)} hamlets whose status changes between members (probability of no signal 10–90 %)")
    display(unsure.sort_values("p_no_signal", ascending=False).head(15))  # noqa: F821

# %% [markdown]
# ## Which input drives the spread?
# One input at a time, the others held at their one-run value, same seed and members: the width
# of the P10–P90 range of the whole area and, per unit, the input with the widest range.

# %%
totals, per_unit = sensitivity(study, model, spec, analysis=analysis, level=level, full=ens)
totals.round(3)

# %%
per_unit["main_driver"].value_counts()

# %% [markdown]
# Tower positions move footprints, so each of their members recomputes coverage (the slow part).
# A smaller ensemble shows their weight:

# %%
towers = run_ensemble(study, model, EnsembleSpec(members=tower_members, seed=seed, tower_position_m=tower_position_m),
                      analysis=analysis)
tt = towers.totals
print(f"tower positions alone ({tower_members} members, 1-sigma {tower_position_m:g} m): "
      f"P10 {tt['p10']:,.0f}, P90 {tt['p90']:,.0f} people without signal "
      f"({towers.timings.get('tower_members', 0.0):.0f} s)")

# %% [markdown]
# ## Reading the ranges
# * A range says how much the answer depends on the inputs **as their spread was set here**:
#   change the spread (parameters above, or `[uncertainty]` in the config) and the range changes.
# * Link budgets move the edge of every footprint together; on the demo they and the location
#   draw dominate. Where the population grids disagree (towns vs spread-out settlements) a unit's
#   range can be wide even with a perfect coverage model.
# * Per-cell location draws with a short correlation distance mostly average out over a commune;
#   a longer `location_correlation_m` models an error shared by a whole valley and widens ranges.
#   See docs/design.md, "Uncertainty ensembles", for the choices and their reasons.

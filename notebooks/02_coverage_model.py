# %% [markdown]
# # 02 · Coverage model
#
# Who has signal, of which technology, from how many operators? And how much do the answers depend on
# the model? Coverage is *modelled*, not measured: this notebook shows the signal maps, the land cover the
# reference model puts on the terrain, how sure each cell's coverage is, and then runs the same study area
# with every model so you can see how far their gap counts lie apart.
#
# The models (README, "Coverage models"):
#
# - **radius**: each transmitter covers a disc (Mobile Coverage Explorer fallback radii: 12 km for 2G,
#   4 km for 3G/4G). No terrain, no signal level.
# - **hata**: Okumura–Hata / COST-231 path loss against each technology's threshold; no terrain.
# - **terrain**: Hata plus diffraction over the DEM (covgap's own hybrid), so valleys behind ridges
#   stay dark.
# - **p1812**: ITU-R P.1812-6, the ITU's method for point-to-area coverage: the terrain profile to every
#   cell, clutter from land cover, validated against ITU's own test profiles. It is the reference the
#   others are measured against (docs/design.md, "P.1812 fast area mode").

# %% tags=["parameters"]
CONFIG = None     # path to a covgap.toml; None = the embedded SYNTHETIC demo
DEMO_DIR = None   # folder written by `covgap demo` to reuse
MODEL = "radius"  # radius | hata | terrain | auto
LANG = "en"       # en | vi
OUT = "out/notebooks/02_coverage_model"
CACHE_DIR = None
RADIUS_FACTORS = [0.75, 1.0, 1.25]  # sensitivity: scale every radius by these factors
COMPARE_MODELS = ["radius", "hata", "terrain", "p1812"]  # run side by side (terrain, p1812 need a DEM)

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
from IPython.display import display

from covgap.notebooks import load_analysis, load_inputs
from covgap.models import make_model
from covgap.models.radius import DEFAULT_RADIUS_KM, RadiusModel
from covgap import compare
from covgap.report import figures, tables

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
cov = analysis.coverage
print(analysis.summary()["title"])
print("model:", cov.parameters)

# %% [markdown]
# ## Signal maps per technology
#
# Each map shows how many operators reach each cell with that technology; light grey is no signal.

# %%
for tech in sorted(cov.technologies):
    display(figures.plot_coverage(analysis, tech, lang=LANG))

# %% [markdown]
# ## People covered, by technology
#
# Population covered by at least one operator with each technology, and by any signal at all.

# %%
figures.plot_coverage_bars(analysis, lang=LANG)

# %% [markdown]
# ## Per operator
#
# ITU indicator 9.c.1 reports, per technology, the largest population covered by any one operator.
# The table gives people covered per operator and technology.

# %%
tables.population_by_operator(analysis).round(0)

# %% [markdown]
# ## Land cover
#
# Forest, towns and water change the signal a phone receives: P.1812 stands each profile point's
# *clutter* (trees, buildings) on the terrain and adds the clutter loss at the receiver. covgap reads
# ESA WorldCover 2021 (10 m, CC BY 4.0; `covgap fetch` downloads it) by majority onto the analysis grid
# and maps each class to a P.1812 category and representative height R (the legend; the table is
# `coverage/covgap/data/worldcover_p1812.csv` and can be overridden in `[landcover]`). The other models
# do not read land cover: Hata's environment classes already average it.

# %%
cfg, study = load_inputs(CONFIG, demo_dir=DEMO_DIR)
if study.landcover is not None:
    display(figures.plot_landcover(analysis, study.landcover, lang=LANG))
    print("land cover:", study.landcover.source)
else:
    print("No [landcover] in this config: P.1812 runs with open/rural clutter (R = 0 m) everywhere.")

# %% [markdown]
# ## All models side by side
#
# The same towers, people and terrain through each model. The spread between the rows is the model
# uncertainty behind every gap count; P.1812 is the reference (its accuracy against ITU's validation
# data and the other engines' differences from it are in docs/design.md). Large differences mean the
# counts should be read with the model named, and checked on the ground before a site is planned.

# %%
models = {}
for kind in COMPARE_MODELS:
    if kind in ("terrain", "p1812") and study.dem is None:
        print(f"{kind}: skipped, this config has no DEM")
        continue
    models[kind] = make_model(cfg.model, has_dem=study.dem is not None, kind=kind, landcover=study.landcover)
coverages = {}
totals, per_unit = compare.compare_models(study, models, coverages=coverages)
display(totals.round(3))
per_unit.round(0)

# %% [markdown]
# ## How sure is "covered"? The coverage probability
#
# A signal model predicts the *median* signal of a cell: half of the places in it get more, half less.
# The map shows, per cell, the share of places where the best server reaches the threshold
# (Φ((median − threshold)/σL), σL the location variability). The black line is the edge the tables use
# (50 % of locations unless `[model] location_percent` says otherwise; regulators often ask for 90 %).
# Drawn for the most detailed signal model compared above.

# %%
signal_model = next((k for k in ("p1812", "terrain", "hata") if k in coverages), None)
if signal_model is None:
    print("No signal model compared: the radius model has no signal level, so no probability.")
else:
    for tech in sorted(coverages[signal_model].technologies):
        display(figures.plot_coverage_probability(analysis, tech, coverage=coverages[signal_model], lang=LANG))

# %% [markdown]
# ## Sensitivity of the radius model
#
# The same study area with every radius scaled.

# %%
base = {t: r for t, r in DEFAULT_RADIUS_KM.items() if r}
base.update({t: r for t, r in (cov.parameters.get("radius_km") or {}).items() if r})
scaled = {f"radius ×{f:g}": RadiusModel(radius_km={t: r * f for t, r in base.items()}) for f in RADIUS_FACTORS}
totals_r, per_unit_r = compare.compare_models(analysis.study, scaled)
totals_r.round(3)

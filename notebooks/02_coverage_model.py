# %% [markdown]
# # 02 · Coverage model
#
# Who has signal, of which technology, from how many operators? And how much do the answers depend on
# the model? Coverage is *modelled*, not measured: this notebook shows the signal maps and then runs the
# same study area with other model settings so you can see how sensitive the gap counts are.
#
# The **radius model** gives each transmitter a disc (Mobile Coverage Explorer fallback radii: 12 km for
# 2G, 4 km for 3G/4G). The **terrain model** (when available) computes path loss over the DEM, so
# valleys behind ridges stay dark.

# %% tags=["parameters"]
CONFIG = None     # path to a covgap.toml; None = the embedded SYNTHETIC demo
DEMO_DIR = None   # folder written by `covgap demo` to reuse
MODEL = "radius"  # radius | hata | terrain | auto
LANG = "en"       # en | vi
OUT = "out/notebooks/02_coverage_model"
CACHE_DIR = None
RADIUS_FACTORS = [0.75, 1.0, 1.25]  # sensitivity: scale every radius by these factors
COMPARE_TERRAIN = False             # also run the terrain model (slower; needs a DEM)

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
from IPython.display import display

from covgap.notebooks import load_analysis
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
# ## Sensitivity to the model
#
# The same study area with every radius scaled (and, with `COMPARE_TERRAIN = True`, the terrain model).
# Large differences mean the gap counts in the reports should be read as a range, and checked on the
# ground before a site is planned.

# %%
base = {t: r for t, r in DEFAULT_RADIUS_KM.items() if r}
base.update({t: r for t, r in (cov.parameters.get("radius_km") or {}).items() if r})
models = {f"radius ×{f:g}": RadiusModel(radius_km={t: r * f for t, r in base.items()}) for f in RADIUS_FACTORS}
if COMPARE_TERRAIN and analysis.study.dem is not None:
    from covgap.config import ModelConfig
    from covgap.models import make_model

    models["terrain"] = make_model(ModelConfig(kind="terrain"), has_dem=True)
totals, per_unit = compare.compare_models(analysis.study, models)
display(totals.round(3))
per_unit.round(0)

# %% [markdown]
# # 01 · Study area and inputs
#
# What did covgap load, and can we trust it? This notebook shows every input on the analysis grid
# (population, terrain, towers, admin units, hamlets), where each came from, and what loading had to
# fix or count (nodata cells, rows dropped, defaults used).
#
# **Parameters** (next cell): `CONFIG = None` runs on the embedded SYNTHETIC demo; set it to the path of
# your `covgap.toml` to run on real data. `MODEL` picks the coverage model (`radius` is fast; `terrain`
# uses the DEM). `LANG` is `"en"` or `"vi"`.

# %% tags=["parameters"]
CONFIG = None     # path to a covgap.toml; None = the embedded SYNTHETIC demo
DEMO_DIR = None   # folder written by `covgap demo` to reuse (None: generate the demo inputs)
MODEL = "radius"  # radius | hata | terrain | auto
LANG = "en"       # en | vi
OUT = "out/notebooks/01_study_area"
CACHE_DIR = None  # folder to keep the analysis in, shared by the notebooks of one run (None: no cache)

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
import pandas as pd
from IPython.display import display

from covgap.notebooks import load_analysis
from covgap.report import figures, tables
from covgap.report.exports import sources_frame

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
study = analysis.study
summary = analysis.summary()
print(summary["title"])

# %% [markdown]
# ## The analysis grid
#
# Every computation happens on one grid: the population raster's own grid, so people are never
# resampled. Distances are computed in metres on the sphere, right at every latitude.

# %%
pd.Series({"CRS": summary["grid"]["crs"], "shape (rows, columns)": summary["grid"]["shape"],
           "cell size": summary["grid"]["res"], "bounds (W, S, E, N)": summary["grid"]["bounds"],
           "people on the grid": round(summary["population_total"]),
           "people outside all units": summary["population_outside_units"]})

# %% [markdown]
# ## Where the inputs came from
#
# Every output carries this table (the XLSX *Sources* sheet, the HTML and PDF reports): source,
# release, licence and a SHA-256 checksum of each file read.

# %%
sources_frame(summary)

# %% [markdown]
# ## Data-quality findings
#
# What loading did: population nodata cells (counted as 0 people), DEM nodata, tower rows dropped or
# given default values. Nothing is dropped silently: every count is here.

# %%
for what, note in summary["notes"].items():
    print(f"{what}: {note}")

# %%
sites = analysis.coverage.sites
print(f"{len(sites)} transmitters on {sites['site_id'].nunique()} sites")
sites.pivot_table(index="operator", columns="technology", values="site_id", aggfunc="nunique", fill_value=0)

# %% [markdown]
# ## Population
#
# People per grid cell on a log colour scale, with the top-level admin units outlined.

# %%
figures.plot_population(analysis, lang=LANG)

# %% [markdown]
# ## Terrain and towers
#
# Elevation over a hillshade (sun from the north-west), with every site coloured by operator.
# Mountains and valleys decide much of who has signal, which the terrain model takes into account.

# %%
if study.dem is not None:
    display(figures.plot_terrain(analysis, lang=LANG))
else:
    print("No DEM in this configuration: terrain maps and the terrain model are not available.")

# %% [markdown]
# ## Admin units and hamlets
#
# Population per unit of each level; every person is in exactly one unit of each level, or counted as
# outside all units.

# %%
for level, tab in analysis.units.items():
    print(f"{level}: {len(tab)} units, {tab['population'].sum():,.0f} people")
tables.ranked_units(analysis, next(iter(analysis.units)), by="population")[["rank", "code", "name", "population"]]

# %%
if analysis.hamlets is not None:
    print(f"{len(analysis.hamlets)} hamlets")
    display(analysis.hamlets["status"].value_counts().rename("hamlets"))

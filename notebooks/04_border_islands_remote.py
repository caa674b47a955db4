# %% [markdown]
# # 04 · Border belt, islands and remote areas
#
# Gaps matter most where people are hardest to reach: near the land border, on islands, in the
# mountains, far from any site. covgap computes *lenses* (masks on the grid) and counts, for every unit,
# the people and the people without signal inside each lens, so every number here adds up to the
# totals in notebook 03.
#
# Lenses: `border_belt` = within `border_belt_km` (default 20 km) of the land border; `island`;
# `mountain` (UNEP-WCMC/Kapos mountain classes from the DEM); `rural` (Degree of Urbanisation).
# Near the border it also shows who hears only a neighbouring country's network, and where the tower data are thin.

# %% tags=["parameters"]
CONFIG = None
DEMO_DIR = None
MODEL = "radius"
LANG = "en"
OUT = "out/notebooks/04_border_islands_remote"
CACHE_DIR = None
MIN_POPULATION = 500    # remote clusters: at least this many people …
MIN_DISTANCE_KM = 5.0   # … and farther than this from any site
BORDER_KM = 20.0        # clusters this close to the land border

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
import pandas as pd
from IPython.display import display

from covgap.notebooks import load_analysis
from covgap.report import figures, tables
from covgap.report.i18n import column_label

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
s = analysis.summary()
top = next(iter(analysis.units))
print(s["title"])

# %% [markdown]
# ## Lens totals for the study area

# %%
lens = pd.DataFrame(s.get("lenses") or {}).T
lens

# %% [markdown]
# ## People without signal within the border belt, by province

# %%
t = tables.ranked_units(analysis, top)
lens_cols = [c for c in t.columns if c.split("_")[0] in ("border", "island", "mountain", "rural")]
if lens_cols:
    key = "border_belt_uncovered" if "border_belt_uncovered" in t.columns else "uncovered"
    display(t.sort_values(key, ascending=False)[["name", "population", "uncovered"] + lens_cols]
            .rename(columns=lambda c: column_label(c, LANG)))
else:
    print("No lens columns in this analysis (no border, DEM or island inputs).")

# %% [markdown]
# ## Remote gap clusters
#
# Gap clusters holding at least `MIN_POPULATION` people whose centre is more than `MIN_DISTANCE_KM` from
# any existing site: no neighbouring site can be tuned to reach them.

# %%
cl = analysis.clusters
remote = tables.remote_clusters(cl, min_population=MIN_POPULATION, min_distance_km=MIN_DISTANCE_KM)
show = [c for c in ["rank", "population", "area_km2", "distance_to_nearest_site_km", "distance_to_border_km",
                    "elevation_mean_m", "on_island", "in_mountains", "province_name", "commune_name",
                    "missing_technologies"] if c in cl.columns]
print(f"{len(remote)} of {len(cl)} clusters; {remote['population'].sum():,.0f} people")
pd.DataFrame(remote[show])

# %% [markdown]
# ## Clusters near the land border and on islands

# %%
if "distance_to_border_km" in cl.columns:
    near = cl[cl["distance_to_border_km"] <= BORDER_KM]
    print(f"{len(near)} clusters within {BORDER_KM:g} km of the land border: {near['population'].sum():,.0f} people")
    display(pd.DataFrame(near[show]))
if "on_island" in cl.columns:
    isl = cl[cl["on_island"].astype(bool)]
    print(f"{len(isl)} clusters on islands: {isl['population'].sum():,.0f} people")

# %% [markdown]
# ## Neighbouring countries' networks
#
# Towers of the neighbouring countries (`[inputs] foreign_towers`) are computed with the same model but never
# counted as covered (unless `[gaps] count_foreign = true`). In every unit:
# covered by a domestic network + `foreign_only` + `no_network` = population.

# %%
fn = s.get("foreign_networks")
if fn:
    print({k: fn[k] for k in ("foreign_only", "domestic_and_foreign", "no_network", "count_foreign")})
    fcols = [c for c in ["foreign_only", "domestic_and_foreign", "no_network", "border_belt_foreign_only"]
             if c in t.columns]
    display(t.sort_values("foreign_only", ascending=False)[["name", "population", "uncovered"] + fcols]
            .rename(columns=lambda c: column_label(c, LANG)))
    if analysis.hamlets is not None and "foreign_only" in analysis.hamlets.columns:
        h = analysis.hamlets[analysis.hamlets["foreign_only"]]
        print(f"{len(h)} hamlets hear only a foreign network")
        display(pd.DataFrame(h[[c for c in ["name", "foreign_operators", "distance_to_border_km"] if c in h.columns]]))
else:
    print("No foreign towers in this config ([inputs] foreign_towers).")

# %% [markdown]
# ## How sure are we of the tower data?
#
# Sites and OpenCelliD samples per 1,000 km² per unit; gap clusters with few recorded sites around them are flagged
# `tower_data_thin`: there the gap may be missing tower data rather than missing signal.

# %%
ccols = [c for c in ["sites_per_1000km2", "samples_per_1000km2", "cells_seen_once"] if c in t.columns]
display(t.sort_values("sites_per_1000km2")[["name", "uncovered"] + ccols].rename(columns=lambda c: column_label(c, LANG)))
print(s.get("tower_data"))
if "tower_data_thin" in cl.columns:
    display(pd.DataFrame(cl[cl["tower_data_thin"].astype(bool)][[c for c in show + ["sites_within_km"] if c in cl.columns]]))

# %% [markdown]
# ## Map: where the remote clusters are

# %%
figures.plot_gap_map(analysis, clusters=remote if len(remote) else cl, lang=LANG)

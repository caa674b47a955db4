# %% [markdown]
# # 05 · Gap clusters and hamlets in one province
#
# Drill down into one province: where are the gap clusters, which hamlets (thôn/bản) have no signal
# from any operator and which only 2G, how many people, how far from the nearest site, how high up?
# Vietnam counts gaps in hamlets, so this is the list a provincial department would check first.
#
# `PROVINCE = None` picks the province with the most people without signal; set a code or a name.

# %% tags=["parameters"]
CONFIG = None
DEMO_DIR = None
MODEL = "radius"
LANG = "en"
OUT = "out/notebooks/05_clusters_and_hamlets"
CACHE_DIR = None
PROVINCE = None       # code or name of a top-level unit; None = most people without signal
SHOW_MAP = True       # the interactive map (offline Leaflet) for the province

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
import pandas as pd
from IPython.display import display

from covgap.notebooks import load_analysis
from covgap.report import figures, tables
from covgap.report.i18n import column_label
from covgap.report.maps import coverage_map

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
top = next(iter(analysis.units))
if PROVINCE is None:
    PROVINCE = tables.ranked_units(analysis, top)["code"].iloc[0]
view = tables.province_view(analysis, PROVINCE)
u = view.unit
print(f"{view.name} ({view.code}): {u['uncovered']:,.0f} of {u['population']:,.0f} people without any signal")

# %% [markdown]
# ## Where the people without signal are
#
# Red cells: people without any signal; purple: gap clusters (numbered by rank); dots: hamlets with no
# signal (red) or 2G only (orange); triangles: sites by operator.

# %%
figures.plot_gap_map(analysis, bounds_lonlat=view.bounds_lonlat, clusters=view.clusters, hamlets=view.hamlets,
                     sites=view.sites, subunits=view.sublevel, lang=LANG)

# %% [markdown]
# ## Communes of the province

# %%
cols = ["rank", "code", "name", "population", "uncovered", "uncovered_share", "without_4G", "missing_technologies"]
view.subunits[cols].rename(columns=lambda c: column_label(c, LANG)) if view.subunits is not None else None

# %% [markdown]
# ## Gap clusters

# %%
show = [c for c in ["rank", "population", "area_km2", "distance_to_nearest_site_km", "elevation_mean_m",
                    "distance_to_border_km", "commune_name", "missing_technologies", "missing_operators"]
        if c in view.clusters.columns]
pd.DataFrame(view.clusters[show]).rename(columns=lambda c: column_label(c, LANG))

# %% [markdown]
# ## Hamlets without signal, and with 2G only
#
# Sorted by distance to the nearest site (farthest first): the ones a new site would serve.

# %%
if view.hamlets is not None:
    h = pd.DataFrame(view.hamlets.drop(columns="geometry"))
    hcols = [c for c in ["name", "commune_name", "status", "operators", "distance_to_nearest_site_km",
                         "elevation_m", "lon", "lat"] if c in h.columns]
    for status in ("no signal", "2G only"):
        sub = h[h["status"] == status].sort_values("distance_to_nearest_site_km", ascending=False)
        print(f"{status}: {len(sub)} hamlets")
        display(sub[hcols].rename(columns=lambda c: column_label(c, LANG)))
else:
    print("No hamlet layer in this configuration.")

# %% [markdown]
# ## Interactive map
#
# Layers can be switched on and off (top right); hover a commune, cluster, site or hamlet for its
# numbers. The map works offline (Leaflet is embedded); base-map tiles are off here.

# %%
if SHOW_MAP:
    display(coverage_map(analysis, tiles=None, lang=LANG, bounds_lonlat=view.bounds_lonlat))

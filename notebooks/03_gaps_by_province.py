# %% [markdown]
# # 03 · Gaps by province
#
# Which provinces have the most people without any mobile signal, and without 4G? A national
# percentage hides the gaps: this notebook ranks the top-level units (provinces) and their communes,
# shows the uncovered population by technology, and, when the inputs use the 63 former provinces,
# sums them into today's 34 provinces (Resolution 202/2025/QH15) for comparison with older reports.

# %% tags=["parameters"]
CONFIG = None     # path to a covgap.toml; None = the embedded SYNTHETIC demo
DEMO_DIR = None
MODEL = "radius"
LANG = "en"
OUT = "out/notebooks/03_gaps_by_province"
CACHE_DIR = None
TOP = 15          # rows shown in the ranked tables
POPULATION_LAYERS = None  # {"name": "path/to/people.tif", ...} to compare; None on the demo = its own variants

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
from IPython.display import display

from covgap.notebooks import load_analysis
from covgap.report import figures, tables
from covgap.report.i18n import column_label

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
levels = list(analysis.units)
top, finest = levels[0], levels[-1]
s = analysis.summary()
print(s["title"])
print(f"{s['population_uncovered']:,.0f} of {s['population_total']:,.0f} people without any signal "
      f"({100 * s['uncovered_share']:.1f} %); {s['population_without_4G']:,.0f} without 4G")

# %% [markdown]
# ## Share of people without any signal, by province and by commune

# %%
display(figures.plot_choropleth(analysis, top, lang=LANG))
figures.plot_choropleth(analysis, finest, lang=LANG, annotate=False)

# %% [markdown]
# ## Provinces ranked by people without any signal
#
# `missing_technologies` lists each technology that at least 1 % of the unit's people lack, with that
# share. Columns named `border_belt_*`, `mountain_*`, `island_*`, `rural_*` count the same people inside
# each lens (see notebook 04).

# %%
cols = ["rank", "code", "name", "population", "uncovered", "uncovered_share", "without_4G", "missing_technologies"]
ranked = tables.ranked_units(analysis, top)
ranked[cols].head(TOP).rename(columns=lambda c: column_label(c, LANG))

# %% [markdown]
# ## Provinces ranked by people without 4G

# %%
tables.ranked_units(analysis, top, by="without_4G")[cols].head(TOP).rename(columns=lambda c: column_label(c, LANG))

# %% [markdown]
# ## Uncovered population by technology
#
# People without each technology (whatever else they receive), per province.

# %%
tables.without_by_technology(ranked.set_index("name")).round(0).head(TOP).rename(columns=lambda c: column_label(c, LANG))

# %% [markdown]
# ## Communes with the most people without signal

# %%
tables.ranked_units(analysis, finest)[cols].head(TOP).rename(columns=lambda c: column_label(c, LANG))

# %% [markdown]
# ## 63 former provinces → 34 provinces
#
# When the province codes are the 63 former GSO codes, the same table summed into the 34 provinces
# in force since 1 July 2025 (exact: every new province is a union of whole former provinces).

# %%
schemes = tables.scheme_tables(analysis, top)
if "34" in schemes:
    display(schemes["34"].head(TOP))
else:
    print("These units are not the 63 former Vietnamese provinces (the demo has its own synthetic "
          "provinces), so there is nothing to aggregate; on real data with geoBoundaries/GADM ADM1 "
          "this cell shows the 34-province table.")

# %% [markdown]
# ## How much do the figures depend on the population layer?
#
# The same coverage, other people: the analysis' own population grid and the layers in
# `POPULATION_LAYERS` (on the demo: its settlement-constrained and unconstrained variants, with the same
# people per commune). Per province: people without 4G under each layer, the spread (max − min) and the
# rank under each layer (1 = most people without 4G). Which grid to use when: see the README.

# %%
from covgap.compare import compare_population_layers
from covgap.notebooks import population_layers

layers = population_layers(analysis, POPULATION_LAYERS, demo_dir=DEMO_DIR)
if len(layers) > 1:
    by_layer = compare_population_layers(analysis, layers, level=top, technology="4G", min_population=50)
    display(by_layer.totals[["layer", "population", "uncovered", "uncovered_share", "gap_clusters",
                             "rank_correlation", "aggregation"]].round(3))
    cols = ["code", "name"] + [f"uncovered_{n}" for n in by_layer.layers] + ["spread", "spread_rel"] + [
        f"rank_{n}" for n in by_layer.layers]
    display(by_layer.units[cols].head(TOP).round(2))
else:
    print("Only one population layer: set POPULATION_LAYERS to compare others.")

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
# # 07 — Where to build next
#
# A gap list says where people lack signal; planners then ask **where to put the next towers and
# what each one buys**. This notebook
#
# 1. analyses the study area today (the embedded SYNTHETIC demo by default),
# 2. builds candidate sites: hilltops near each gap cluster, upgrades of existing sites that lack
#    4G, and (optionally) your own list,
# 3. asks a *what-if* question in one call,
# 4. chooses sites greedily by people newly covered (lazy evaluation), nationally or for one
#    province, under a budget in sites, in cost, or up to a target share,
# 5. writes the planner's workbook, a GeoPackage, a KML for field teams and a map.
#
# Everything is computed by `covgap.planning`; this notebook only chooses parameters.
# Costs are **relative cost units** (1 = one new rural site, 0.25 = an upgrade): placeholders —
# replace them with your own figures.

# %% tags=["parameters"]
CONFIG = None              # path to a covgap.toml; None = the embedded SYNTHETIC demo
DEMO_DIR = None            # folder written by `covgap demo` to reuse (None: generate the demo inputs)
MODEL = "radius"           # radius | hata | terrain | auto (terrain when a DEM is given)
LANG = "en"                # en | vi
OUT = "out/notebooks/07_where_to_build"
CACHE_DIR = None           # folder to keep the analysis in, shared by the notebooks of one run
target = "any"             # plan for people without "any" signal, or without a technology ("4G")
budget_sites = 10          # number of sites to choose (None: use budget_cost / target_share)
budget_cost = None         # cost budget in cost units
target_share = None        # stop when this share of people is covered (0–1)
unit = None                # plan for one province (code or name), or None for the whole study area
candidates_file = None     # your own candidates (CSV or point layer: lon, lat, ...)
within_km = 5.0            # hilltops within this distance of a gap cluster
spacing_km = 1.0           # minimum spacing of generated hilltops
technology = "4G"          # what new sites and upgrades bring
cost_new_site = 1.0
cost_upgrade = 0.25

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
from pathlib import Path

import pandas as pd

from covgap import planning
from covgap.notebooks import load_analysis

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
model = planning.model_of(analysis)  # the coverage model the analysis used
s = analysis.summary()
print(s["title"])
print(f"model {model.name}: {s['population_uncovered']:,.0f} people without any signal, "
      f"{s['population_without_4G']:,.0f} without 4G")

# %% [markdown]
# ## Candidates
# Hilltops (local DEM maxima, on land, inside the country) near each gap cluster, upgrades of
# existing sites without 4G, and your own list. Bad rows are dropped **and counted**.

# %%
costs = planning.CandidateCosts(new_site=cost_new_site, upgrade=cost_upgrade)
parts, report = [], None
if candidates_file:
    user, report = planning.read_candidates(candidates_file, costs=costs, technology=technology)
    parts.append(user)
parts.append(planning.generate_candidates(analysis, target=target, within_km=within_km,
                                          min_spacing_km=spacing_km, technology=technology, costs=costs))
parts.append(planning.upgrade_candidates(analysis, technology=technology, costs=costs))
candidates = pd.concat([p for p in parts if len(p)], ignore_index=True)
candidates["kind"].value_counts()

# %% [markdown]
# ## What if…?
# One call recomputes coverage, uncovered people, gap clusters, hamlets and the per-province
# tables. Here: the three highest hilltops near the largest gap cluster are built.

# %%
first = candidates[candidates["kind"] == "new_site"].head(3)
trial = planning.what_if(analysis, add=first, model=model)
print(f"what-if with {len(first)} hilltops: without any signal "
      f"{s['population_uncovered']:,.0f} → {trial.summary()['population_uncovered']:,.0f}")

# %% [markdown]
# ## The plan
# Greedy by people newly covered, with lazy (CELF) evaluation. Each row: the site, the people and
# hamlets it newly covers, cumulative people, cost per newly covered person and where it lies.

# %%
plan = planning.plan_sites(analysis, candidates, model=model, target=target, budget_sites=budget_sites,
                           budget_cost=budget_cost, target_share=target_share, unit=unit, report=report)
print(f"{plan.summary['sites_chosen']} sites ({plan.summary['stop_reason']}): "
      f"{plan.summary['new_population']:,.0f} people newly covered; share covered "
      f"{100 * plan.summary['covered_share_before']:.2f} % → {100 * plan.summary['covered_share_after']:.2f} %")
print("candidates dropped:", plan.summary["candidates"]["dropped"] or "none")
planning.plan_frame(plan).head(20)

# %%
ax = plan.curve.plot(x="n_sites", y="covered_share", marker="o", legend=False)
ax.set_xlabel("sites built (in plan order)")
ax.set_ylabel("share of people covered")
ax.set_title(plan.summary["title"])

# %% [markdown]
# The plan's figures are exact: adding the planned sites with `what_if` gives the same number.

# %%
check = planning.what_if(analysis, add=plan, model=model)
covered = check.summary()["population_covered" if target == "any" else "population_covered_by_technology"]
covered = covered if target == "any" else covered[plan.summary["target"]]
if unit is None:
    assert covered == plan.summary["covered_after"]
print(f"what-if covered: {covered:,.0f}; plan says {plan.summary['covered_after']:,.0f}")

# %% [markdown]
# ## Outputs for the planners

# %%
out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
planning.write_plan_xlsx(plan, out / "plan.xlsx")
planning.write_plan_geopackage(plan, out / "plan.gpkg")
planning.write_plan_kml(plan, out / "plan.kml")
planning.write_plan_json(plan, out / "plan.json")
m = planning.plan_map(plan)
m.save(str(out / "plan_map.html"))
sorted(p.name for p in out.iterdir())

# %%
m

"""Where to build next: candidate sites, what-if analyses and greedy site plans.

* :mod:`~covgap.planning.candidates` — read a user's candidate list, generate hilltops near
  gap clusters and upgrades of existing sites, check them (bad rows counted, not dropped
  silently);
* :mod:`~covgap.planning.footprints` — each candidate's footprint, once, as a sparse set of
  cells, with the analysis' own coverage model;
* :mod:`~covgap.planning.whatif` — add/remove sites and recompute everything in one call;
* :mod:`~covgap.planning.greedy` — lazy greedy (CELF) maximum coverage and the exact optimum
  (integer program) for checking;
* :mod:`~covgap.planning.plan` — the ranked plan and its curve;
* :mod:`~covgap.planning.outputs` — XLSX sheet, GeoPackage, KML, folium layer;
* :mod:`~covgap.planning.cli` — the ``covgap plan`` subcommand (``register(subparsers)``).
"""

from __future__ import annotations

from .candidates import (
    CANDIDATE_COLUMNS,
    KINDS,
    CandidateCosts,
    CandidateReport,
    candidates_to_sites,
    check_candidates,
    generate_candidates,
    make_candidates,
    read_candidates,
    upgrade_candidates,
)
from .footprints import Footprints, candidate_footprints
from .greedy import (
    GREEDY_BOUND,
    GreedyResult,
    check_budget,
    exact_max_coverage,
    greedy_max_coverage,
)
from .outputs import (
    add_plan_layer,
    append_plan_sheet,
    curve_frame,
    footprint_polygons,
    plan_frame,
    plan_map,
    write_plan_geopackage,
    write_plan_json,
    write_plan_kml,
    write_plan_xlsx,
)
from .plan import PLAN_COLUMNS, Plan, model_of, plan_by_unit, plan_sites
from .whatif import what_if

__all__ = [
    "CANDIDATE_COLUMNS", "KINDS", "CandidateCosts", "CandidateReport", "candidates_to_sites", "check_candidates",
    "generate_candidates", "make_candidates", "read_candidates", "upgrade_candidates",
    "Footprints", "candidate_footprints",
    "GREEDY_BOUND", "GreedyResult", "check_budget", "exact_max_coverage", "greedy_max_coverage",
    "PLAN_COLUMNS", "Plan", "plan_by_unit", "plan_sites",
    "model_of", "what_if",
    "add_plan_layer", "append_plan_sheet", "curve_frame", "footprint_polygons", "plan_frame", "plan_map",
    "write_plan_geopackage", "write_plan_json", "write_plan_kml", "write_plan_xlsx",
]

"""Greedy maximum coverage with lazy evaluation (CELF), and the exact optimum for checking.

Choosing ``k`` sites that cover the most people is the *maximum coverage* problem: the
people newly covered, ``f(S) = Σ w_j`` over cells ``j`` covered by some site of ``S``, is
monotone and submodular, so the greedy choice (each time the site with the largest marginal
gain) reaches at least ``1 − 1/e ≈ 0.632`` of the optimum (Nemhauser, Wolsey & Fisher 1978,
*Math. Programming* 14:265–294). Because a site's gain can only shrink as others are chosen,
a stale gain is an upper bound: the *lazy* greedy (CELF; Leskovec et al. 2007, "Cost-effective
outbreak detection in networks", KDD) keeps the candidates in a priority queue of upper
bounds and re-evaluates only the top one, and picks **the same sites** as the plain greedy
(ties broken by the lower candidate index in both).

With a cost budget, the greedy on gain alone and the greedy on gain per cost are both run and
the better kept (CELF's rule; bound ``(1 − 1/e) / 2``).

:func:`exact_max_coverage` solves the same problem exactly as an integer program
(:func:`scipy.optimize.milp`) for small instances, to measure how far greedy is from optimal.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from ..errors import InputError
from .footprints import Footprints

__all__ = ["GreedyResult", "greedy_max_coverage", "exact_max_coverage", "check_budget", "GREEDY_BOUND"]

#: The greedy guarantee for a budget in number of sites: 1 − 1/e.
GREEDY_BOUND = 1.0 - 1.0 / np.e


@nb.njit(cache=True)
def _gain(indptr, indices, w, covered, k):
    """Σ w over the cells of candidate k not yet covered (sequential sum, deterministic)."""
    s = 0.0
    for p in range(indptr[k], indptr[k + 1]):
        j = indices[p]
        if not covered[j]:
            s += w[j]
    return s


@nb.njit(cache=True, parallel=True)
def _gains_all(indptr, indices, w, covered, active):
    n = indptr.shape[0] - 1
    out = np.zeros(n)
    for k in nb.prange(n):
        if active[k]:
            out[k] = _gain(indptr, indices, w, covered, k)
    return out


@nb.njit(cache=True)
def _gain_cells(cells, w, covered):
    s = 0.0
    for p in range(cells.shape[0]):
        j = cells[p]
        if not covered[j]:
            s += w[j]
    return s


@nb.njit(cache=True)
def _mark_cells(cells, covered):
    for p in range(cells.shape[0]):
        covered[cells[p]] = True


@nb.njit(cache=True)
def _mark(indptr, indices, covered, k):
    for p in range(indptr[k], indptr[k + 1]):
        covered[indices[p]] = True


@dataclass
class GreedyResult:
    """The order in which greedy chose candidates and what each added."""

    order: np.ndarray
    gains: np.ndarray
    costs: np.ndarray
    stop_reason: str
    evaluations: int
    rule: str = "gain"
    lazy: bool = True
    log: dict = field(default_factory=dict)

    @property
    def total_gain(self) -> float:
        """Σ marginal gains."""
        return float(self.gains.sum())


def check_budget(*, budget_sites=None, budget_cost=None, target_share=None, where: str = "plan") -> None:
    """Raise :class:`InputError` for a missing, zero, negative or non-finite budget.

    Examples
    --------
    >>> check_budget(budget_sites=0)
    Traceback (most recent call last):
    ...
    covgap.errors.InputError: plan: budget_sites = 0; expected a whole number of sites ≥ 1. Fix: give e.g. --budget 10.
    """
    if budget_sites is None and budget_cost is None and target_share is None:
        raise InputError(f"{where}: no budget given; expected budget_sites (number of sites), budget_cost "
                         "(cost units) or target_share (0–1). Fix: give at least one, e.g. --budget 10.")
    if budget_sites is not None:
        ok = isinstance(budget_sites, (int, np.integer)) and not isinstance(budget_sites, bool) and budget_sites >= 1
        if not ok:
            raise InputError(f"{where}: budget_sites = {budget_sites!r}; expected a whole number of sites ≥ 1. "
                             "Fix: give e.g. --budget 10.")
    if budget_cost is not None:
        if not (isinstance(budget_cost, (int, float, np.number)) and np.isfinite(budget_cost) and budget_cost > 0):
            raise InputError(f"{where}: budget_cost = {budget_cost!r}; expected a cost > 0. "
                             "Fix: give the money (in the candidates' cost unit) available.")
    if target_share is not None:
        if not (isinstance(target_share, (int, float, np.number)) and 0 < target_share <= 1):
            raise InputError(f"{where}: target_share = {target_share!r}; expected a share of the population in (0, 1]. "
                             "Fix: give e.g. 0.99 for 99 %.")


def greedy_max_coverage(footprints: Footprints, weights: np.ndarray, *, costs: np.ndarray | None = None,
                        budget_sites: int | None = None, budget_cost: float | None = None,
                        target_gain: float | None = None, lazy: bool = True, rule: str = "auto",
                        covered: np.ndarray | None = None, refine=None, refine_batch: int = 16) -> GreedyResult:
    """Greedy selection of candidates maximising Σ ``weights`` over newly covered cells.

    Parameters
    ----------
    footprints : Footprints
        Cells per candidate.
    weights : ndarray of float64
        People per cell (flat, or grid-shaped); must be ≥ 0. Already covered cells should be 0
        or marked in ``covered``.
    costs : ndarray, optional
        Cost per candidate (default 1 each).
    budget_sites, budget_cost : optional
        Stop after this many sites / when no affordable candidate is left.
    target_gain : float, optional
        Stop as soon as the cumulative gain reaches this value.
    lazy : bool
        CELF lazy evaluation (same result as ``lazy=False``, far fewer evaluations).
    rule : {"auto", "gain", "ratio"}
        Pick by largest gain, or largest gain per cost. ``auto``: ``gain`` without a cost
        budget; with one, both are run and the one covering more is returned.
    covered : ndarray of bool, optional
        Cells already covered (flat or grid-shaped).
    refine : callable, optional
        When given, ``footprints`` are *upper bounds* (supersets) of the true footprints and
        ``refine(ks)`` returns the true cells of candidates ``ks``. The lazy greedy then
        computes a true footprint only when a candidate reaches the top of the queue (in
        batches of ``refine_batch``): same choice as computing them all first, far fewer
        footprints for costly models (terrain). ``lazy=False`` refines every candidate first.
    refine_batch : int
        How many top candidates are refined together (the terrain kernel runs them in parallel).

    Returns
    -------
    GreedyResult
    """
    if target_gain is not None and not (np.isfinite(target_gain) and target_gain > 0):
        raise InputError(f"greedy: target_gain = {target_gain!r}; expected people > 0.")
    if target_gain is None:
        check_budget(budget_sites=budget_sites, budget_cost=budget_cost, where="greedy")
    n = len(footprints)
    w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64).ravel())
    if w.size != footprints.shape[0] * footprints.shape[1]:
        raise InputError(f"weights have {w.size} cells; the footprints' grid has {footprints.shape}.")
    if (w < 0).any() or not np.isfinite(w).all():
        raise InputError("weights must be finite and ≥ 0 (people per cell).")
    c = np.ones(n) if costs is None else np.asarray(costs, dtype=np.float64)
    if c.shape != (n,) or not (np.isfinite(c).all() and (c > 0).all()):
        raise InputError(f"costs: expected {n} finite costs > 0; got shape {c.shape} "
                         f"with {int((~(np.isfinite(c) & (c > 0))).sum()) if c.shape == (n,) else '?'} invalid.")
    if rule == "auto":
        if budget_cost is None:
            rule = "gain"
        else:
            kw = dict(costs=c, budget_sites=budget_sites, budget_cost=budget_cost, target_gain=target_gain,
                      lazy=lazy, covered=covered, refine=refine, refine_batch=refine_batch)
            a = greedy_max_coverage(footprints, w, rule="gain", **kw)
            b = greedy_max_coverage(footprints, w, rule="ratio", **kw)
            best = b if b.total_gain > a.total_gain else a
            best.log["alternatives"] = {"gain": a.total_gain, "ratio": b.total_gain}
            best.evaluations = a.evaluations + b.evaluations
            return best
    if rule not in ("gain", "ratio"):
        raise InputError(f"greedy rule {rule!r}; expected 'auto', 'gain' or 'ratio'.")
    n_refined = 0
    if refine is not None and not lazy:
        parts = refine(np.arange(n))
        n_refined = n
        footprints = Footprints.from_sorted(parts, footprints.shape, method="refined")
        refine = None
    cov = np.zeros(w.size, dtype=np.bool_) if covered is None else np.ascontiguousarray(covered.ravel()).astype(np.bool_)
    indptr = np.ascontiguousarray(footprints.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(footprints.indices, dtype=np.int64)
    div = c if rule == "ratio" else np.ones(n)
    max_sites = n if budget_sites is None else int(budget_sites)
    money = np.inf if budget_cost is None else float(budget_cost)
    order: list[int] = []
    gains: list[float] = []
    spent = 0.0
    total = 0.0
    evaluations = n
    active = np.ones(n, dtype=np.bool_)
    g0 = _gains_all(indptr, indices, w, cov, active)
    stop = "every candidate chosen"
    exact = np.ones(n, dtype=np.bool_) if refine is None else np.zeros(n, dtype=np.bool_)
    exact_cells: dict[int, np.ndarray] = {}

    def fresh_gain(k: int) -> float:
        if refine is not None:
            return _gain_cells(exact_cells[k], w, cov)
        return _gain(indptr, indices, w, cov, k)

    if lazy:
        heap = [(-g0[k] / div[k], k, 0, g0[k]) for k in range(n)]
        heapq.heapify(heap)
        it = 0
        while True:
            if len(order) >= max_sites:
                stop = "site budget reached"
                break
            if target_gain is not None and total >= target_gain:
                stop = "target share reached"
                break
            chosen = -1
            while heap:
                key, k, stamp, g = heap[0]
                if spent + c[k] > money * (1 + 1e-12):
                    heapq.heappop(heap)  # can never fit again: the remaining money only shrinks
                    continue
                if stamp == it and exact[k]:
                    heapq.heappop(heap)
                    chosen = k
                    break
                if exact[k]:
                    g = fresh_gain(k)
                    evaluations += 1
                    heapq.heapreplace(heap, (-g / div[k], k, it, g))
                    continue
                # refine the top candidates still holding an upper-bound footprint, in one batch
                batch: list[int] = []
                aside: list[tuple] = []
                while heap and len(batch) < refine_batch:
                    e = heapq.heappop(heap)
                    if spent + c[e[1]] > money * (1 + 1e-12):
                        continue
                    (aside if exact[e[1]] else batch).append(e if exact[e[1]] else e[1])
                for kk, cells in zip(batch, refine(np.asarray(batch, dtype=np.int64)), strict=True):
                    exact_cells[kk] = np.ascontiguousarray(cells, dtype=np.int64)
                    exact[kk] = True
                    gk = fresh_gain(kk)
                    evaluations += 1
                    heapq.heappush(heap, (-gk / div[kk], kk, it, gk))
                n_refined += len(batch)
                for e in aside:
                    heapq.heappush(heap, e)
            if chosen < 0:
                stop = "cost budget exhausted" if budget_cost is not None and len(order) < n else stop
                break
            if g <= 0:
                stop = "no candidate covers anyone new"
                break
            if refine is not None:
                _mark_cells(exact_cells[chosen], cov)
            else:
                _mark(indptr, indices, cov, chosen)
            order.append(chosen)
            gains.append(g)
            spent += c[chosen]
            total += g
            it += 1
    else:
        g = g0
        while True:
            if len(order) >= max_sites:
                stop = "site budget reached"
                break
            if target_gain is not None and total >= target_gain:
                stop = "target share reached"
                break
            fits = active & (spent + c <= money * (1 + 1e-12))
            if not fits.any():
                stop = "cost budget exhausted" if budget_cost is not None and len(order) < n else stop
                break
            score = np.where(fits, g / div, -np.inf)
            k = int(np.argmax(score))  # first index among ties, as the heap does
            if g[k] <= 0:
                stop = "no candidate covers anyone new"
                break
            _mark(indptr, indices, cov, k)
            order.append(k)
            gains.append(float(g[k]))
            spent += c[k]
            total += float(g[k])
            active[k] = False
            g = _gains_all(indptr, indices, w, cov, active)
            evaluations += int(active.sum())
    return GreedyResult(order=np.asarray(order, dtype=np.int64), gains=np.asarray(gains, dtype=np.float64),
                        costs=c[np.asarray(order, dtype=np.int64)] if order else np.zeros(0), stop_reason=stop,
                        evaluations=evaluations, rule=rule, lazy=lazy,
                        log={"footprints_refined": n_refined} if n_refined else {})


def exact_max_coverage(footprints: Footprints, weights: np.ndarray, *, budget_sites: int | None = None,
                       costs: np.ndarray | None = None, budget_cost: float | None = None,
                       covered: np.ndarray | None = None, time_limit_s: float = 60.0) -> tuple[np.ndarray, float]:
    """The optimal selection (integer program) for small instances: ``(chosen indices, value)``.

    maximise Σ w_j y_j  subject to  y_j ≤ Σ_{k covers j} x_k,  Σ x_k ≤ budget_sites,
    Σ cost_k x_k ≤ budget_cost,  x binary, 0 ≤ y ≤ 1. Cells with the same set of candidates
    are merged first (their weights summed), which keeps the program small.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    check_budget(budget_sites=budget_sites, budget_cost=budget_cost, where="exact_max_coverage")
    n = len(footprints)
    w = np.asarray(weights, dtype=np.float64).ravel().copy()
    if covered is not None:
        w[np.asarray(covered).ravel()] = 0.0
    rows = np.repeat(np.arange(n), footprints.sizes())
    cols = footprints.indices
    keep = w[cols] > 0
    rows, cols = rows[keep], cols[keep]
    if cols.size == 0:
        return np.zeros(0, np.int64), 0.0
    cells, inv = np.unique(cols, return_inverse=True)
    member = csr_matrix((np.ones(rows.size, dtype=np.int8), (inv, rows)), shape=(cells.size, n)).tocsr()
    member.sum_duplicates()
    member.sort_indices()
    # merge cells with identical candidate sets
    keys = [member.indices[member.indptr[i]:member.indptr[i + 1]].tobytes() for i in range(cells.size)]
    group: dict[bytes, int] = {}
    gid = np.array([group.setdefault(k, len(group)) for k in keys], dtype=np.int64)
    m = len(group)
    wg = np.bincount(gid, weights=w[cells], minlength=m)
    first = np.zeros(m, dtype=np.int64)
    first[gid[::-1]] = np.arange(cells.size)[::-1]
    a_cov = member[first]  # m × n
    # variables: x (n) then y (m)
    obj = np.concatenate([np.zeros(n), -wg])
    from scipy.sparse import hstack, identity
    cons = [LinearConstraint(hstack([-a_cov, identity(m, format="csr")]).tocsr(), -np.inf, 0.0)]
    cst = np.ones(n) if costs is None else np.asarray(costs, dtype=np.float64)
    if budget_sites is not None:
        cons.append(LinearConstraint(np.concatenate([np.ones(n), np.zeros(m)])[None, :], 0, budget_sites))
    if budget_cost is not None:
        cons.append(LinearConstraint(np.concatenate([cst, np.zeros(m)])[None, :], 0, budget_cost))
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    res = milp(obj, constraints=cons, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": time_limit_s, "mip_rel_gap": 0.0})
    if res.x is None or res.status not in (0,):
        raise InputError(f"exact_max_coverage: the integer program did not solve to optimality ({res.message}).")
    chosen = np.flatnonzero(res.x[:n] > 0.5)
    value = float(w[np.unique(np.concatenate([footprints.cells(int(k)) for k in chosen]))].sum()) if chosen.size else 0.0
    return chosen, value

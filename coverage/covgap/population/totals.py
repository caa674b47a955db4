"""Official totals: rescale the people inside each unit to its official total, keeping the pattern."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

# --------------------------------------------------------------------------- official totals
#: Columns of the per-unit table returned by :func:`adjust_to_totals`.
ADJUSTMENT_COLUMNS: tuple[str, ...] = (
    "code", "name", "grid_population", "official_population", "factor", "adjusted_population",
    "difference", "year", "source", "status",
)


def adjust_to_totals(
    people: np.ndarray,
    labels: np.ndarray,
    totals: pd.DataFrame,
    *,
    codes: Any,
    names: Any = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rescale the people inside each unit so that the unit's sum equals its official total.

    Inside unit ``u`` every cell is multiplied by ``factor_u = official_u / grid_u``: the grid's
    pattern inside the unit is kept, the unit's sum becomes the official total (the last float
    rounding residual is put on the unit's most populated cell, so ``Σ unit == official`` to
    ~1 ulp of the total). Cells outside all units (label 0) and units without a total are returned
    unchanged, bit for bit.

    Parameters
    ----------
    people : numpy.ndarray
        People per cell (float, no NaN, no negative value: :func:`clean_population` first).
    labels : numpy.ndarray of int
        Unit label per cell, same shape: ``k + 1`` for unit ``codes[k]``, 0 outside all units.
    totals : pandas.DataFrame
        Official totals: columns ``code`` (str) and ``population`` (people, ≥ 0), optionally
        ``year`` and ``source`` (copied into the table). One row per code.
    codes : sequence of str
        Unit codes in label order.
    names : sequence of str, optional
        Unit names in label order (copied into the table).

    Returns
    -------
    adjusted : numpy.ndarray
        float64 people per cell.
    table : pandas.DataFrame
        One row per unit of the label grid, then one per code of ``totals`` that is not a unit;
        columns :data:`ADJUSTMENT_COLUMNS`. ``status`` is

        - ``adjusted``: scaled by ``factor``;
        - ``no_total``: no official total given; left as it is (``factor`` 1);
        - ``zero_grid``: an official total > 0 but no people on the grid inside the unit. Nothing
          can be scaled: the unit keeps 0 people and ``difference`` (official − adjusted) says how
          many people the grid misses there (``factor`` NaN);
        - ``not_in_layer``: a code of ``totals`` that is no unit of the label grid (ignored).

        ``table.attrs`` holds ``grid_total_before``, ``grid_total_after``, ``outside_population``
        (label 0, unchanged), ``units_adjusted``, ``units_without_total`` (codes),
        ``units_zero_grid`` (codes) and ``codes_not_in_layer``.

    Raises
    ------
    InputError
        On shape mismatch, negative or non-finite people or totals, duplicate codes, labels
        outside ``0..len(codes)``, or when no code of ``totals`` matches a unit (wrong level?).

    Examples
    --------
    >>> pop = np.array([[1.0, 3.0, 5.0], [0.0, 2.0, 7.0]])
    >>> lab = np.array([[1, 1, 2], [0, 1, 2]])
    >>> tot = pd.DataFrame({"code": ["A"], "population": [12.0]})
    >>> adj, tab = adjust_to_totals(pop, lab, tot, codes=["A", "B"])
    >>> adj.tolist()
    [[2.0, 6.0, 5.0], [0.0, 4.0, 7.0]]
    >>> tab[["code", "factor", "status"]].to_dict("records")
    [{'code': 'A', 'factor': 2.0, 'status': 'adjusted'}, {'code': 'B', 'factor': 1.0, 'status': 'no_total'}]

    """
    pop = np.asarray(people, dtype=np.float64)
    lab = np.asarray(labels)
    if pop.shape != lab.shape:
        raise InputError(f"people {pop.shape} and labels {lab.shape} must have the same shape.")
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise InputError(
            "people hold NaN, infinite or negative values. Fix: clean_population() first."
        )
    codes = [str(c) for c in codes]
    n = len(codes)
    if len(set(codes)) != n:
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise InputError(f"unit codes {dup} appear more than once; each unit needs a unique code.")
    names = [""] * n if names is None else [str(v) for v in names]
    if len(names) != n:
        raise InputError(f"{len(names)} names for {n} unit codes.")
    if lab.size and (lab.min() < 0 or lab.max() > n):
        raise InputError(f"labels run from {lab.min()} to {lab.max()}; expected 0..{n} (0 = outside all units).")
    for col in ("code", "population"):
        if col not in totals.columns:
            raise InputError(f"official totals need a column {col!r}; columns are {list(totals.columns)}.")
    tcode = totals["code"].astype(str).to_numpy()
    tval = pd.to_numeric(totals["population"], errors="coerce").to_numpy(dtype=np.float64)
    if pd.Series(tcode).duplicated().any():
        dup = sorted(set(pd.Series(tcode)[pd.Series(tcode).duplicated()]))
        raise InputError(f"official totals give codes {dup} more than once; give one total per unit.")
    bad = ~np.isfinite(tval) | (tval < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"official total for code {tcode[i]!r} is {totals['population'].iloc[i]!r}; expected a number of "
            "people ≥ 0."
        )
    year = totals["year"].astype(str).to_numpy() if "year" in totals.columns else np.full(len(tcode), "")
    source = totals["source"].astype(str).to_numpy() if "source" in totals.columns else np.full(len(tcode), "")
    index = {c: i for i, c in enumerate(tcode)}
    if tcode.size and not any(c in index for c in codes):
        raise InputError(
            f"none of the {len(tcode)} codes of the official totals (e.g. {list(tcode[:3])}) is a unit code of "
            f"this admin level (e.g. {codes[:3]}). Fix: give totals for this level's codes, or name the level "
            "they belong to."
        )
    flat_lab = lab.ravel()
    flat_pop = pop.ravel()
    grid = np.bincount(flat_lab, weights=flat_pop, minlength=n + 1)
    factor = np.ones(n + 1)
    rows = []
    for k, c in enumerate(codes):
        g = float(grid[k + 1])
        row = {"code": c, "name": names[k], "grid_population": g, "official_population": np.nan,
               "factor": 1.0, "year": "", "source": "", "status": "no_total"}
        if c in index:
            i = index[c]
            t = float(tval[i])
            row.update(official_population=t, year=year[i], source=source[i])
            if g > 0:
                factor[k + 1] = t / g
                row.update(factor=t / g, status="adjusted")
            elif t > 0:
                row.update(factor=np.nan, status="zero_grid")
            else:
                row.update(factor=1.0, status="adjusted")
        rows.append(row)
    out = np.where(flat_lab > 0, flat_pop * factor[flat_lab], flat_pop)
    adjusted_sum = np.bincount(flat_lab, weights=out, minlength=n + 1)
    # put the rounding residual on each adjusted unit's most populated cell (exact Σ = official)
    order = np.argsort(flat_lab, kind="stable")
    starts = np.searchsorted(flat_lab[order], np.arange(n + 2))
    for k, row in enumerate(rows):
        if row["status"] != "adjusted" or row["grid_population"] <= 0:
            continue
        cells = order[starts[k + 1] : starts[k + 2]]
        top = cells[np.argmax(out[cells])]
        out[top] = max(0.0, out[top] + (row["official_population"] - adjusted_sum[k + 1]))
        adjusted_sum[k + 1] = out[cells].sum()
    out = out.reshape(pop.shape)
    for k, row in enumerate(rows):
        row["adjusted_population"] = float(adjusted_sum[k + 1])
        row["difference"] = (
            row["official_population"] - row["adjusted_population"] if row["status"] != "no_total" else np.nan
        )
    unit_set = set(codes)
    for i, c in enumerate(tcode):
        if c not in unit_set:
            rows.append({"code": c, "name": "", "grid_population": np.nan, "official_population": float(tval[i]),
                         "factor": np.nan, "adjusted_population": np.nan, "difference": np.nan,
                         "year": year[i], "source": source[i], "status": "not_in_layer"})
    table = pd.DataFrame(rows, columns=list(ADJUSTMENT_COLUMNS))
    table.attrs.update(
        grid_total_before=float(pop.sum()),
        grid_total_after=float(out.sum()),
        outside_population=float(grid[0]),
        units_adjusted=int((table["status"] == "adjusted").sum()),
        units_without_total=table.loc[table["status"] == "no_total", "code"].tolist(),
        units_zero_grid=table.loc[table["status"] == "zero_grid", "code"].tolist(),
        codes_not_in_layer=table.loc[table["status"] == "not_in_layer", "code"].tolist(),
    )
    return out, table

"""Reader of ITU-R Working Party 3K's P.1812 validation profiles and results (test helper).

Profiles (``profiles/<name>.csv``, the SG3 databank "Fryderyk" CSV layout) hold the path:
a header of ``key:,value`` rows (Tx/Rx coordinates, DN, N0), ``Number of Points:,n`` then
n rows ``distance km, height m, clutter category, representative clutter height m,
radio-climatic zone``, and a measurement table (one row per case). Results
(``results/<name>_<k>.csv``) list, for the k-th measurement row (1-based), every input
and intermediate quantity as ``name,reference,,value``.

The profile columns become the model's inputs the way the reference implementation's
validation script does it: d, h, R (the fourth column, used as given), Ct (the third),
zone (the fifth); dct/dcr = 0 where the first/last point is at sea, else 500 km; the
power in kW from the e.r.p. column (dBW), or, where that is empty, from the listed
field strength and loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ValidationCase", "read_profile", "read_result", "find_cases", "RESULT_NAMES"]

# Measurement table columns (0-based) of the SG3 databank CSV layout.
_COL_F_MHZ, _COL_HTX, _COL_HRX, _COL_POL, _COL_ERP_DBW, _COL_P, _COL_E, _COL_LB = 0, 1, 3, 4, 12, 14, 16, 17


@dataclass
class ValidationCase:
    """One profile/measurement pair and the model inputs built from it."""

    name: str  # e.g. "b2iseac_1"
    inputs: dict  # keyword arguments of covgap.models.p1812.transmission_loss_details
    expected_E: float
    expected_Lb: float
    result_path: Path
    results: list[tuple[str, str, float]] = field(default_factory=list)  # (label, reference, value)


def _float(s: str) -> float:
    s = s.strip()
    return float(s) if s else math.nan


def read_profile(path: Path) -> tuple[dict, list[list[float]]]:
    """Header values, profile arrays and measurement rows of one profile file."""
    lines = [ln.rstrip("\n").rstrip("\r") for ln in path.read_text(encoding="utf-8-sig").splitlines()]
    head: dict = {}
    meas: list[list[float]] = []
    i = 0
    while i < len(lines):
        cells = lines[i].split(",")
        key = cells[0].strip().lower()
        if key.startswith("tx lat"):
            head["phi_t"] = float(cells[1])
        elif key.startswith("tx lon"):
            head["lam_t"] = float(cells[1])
        elif key.startswith("rx lat"):
            head["phi_r"] = float(cells[1])
        elif key.startswith("rx lon"):
            head["lam_r"] = float(cells[1])
        elif key.startswith("average annual values dn"):
            head["DN"] = float(cells[1])
        elif key.startswith("average annual sea-level surface refractivity"):
            head["N0"] = float(cells[1])
        elif key.startswith("number of points"):
            n = int(float(cells[1]))
            rows = [[_float(c) for c in lines[i + 1 + k].split(",")[:5]] for k in range(n)]
            arr = np.array(rows, dtype=float)
            head.update(d=arr[:, 0], h=arr[:, 1], Ct=arr[:, 2], R=arr[:, 3], zone=arr[:, 4])
            i += n
        elif key == "{begin of measurements}":
            i += 1
            while i < len(lines) and not lines[i].split(",")[0].strip().lower().startswith("{end of measurements"):
                meas.append([_float(c) for c in lines[i].split(",")[:18]])
                i += 1
        i += 1
    missing = [k for k in ("phi_t", "lam_t", "phi_r", "lam_r", "DN", "N0", "d") if k not in head]
    if missing:
        raise ValueError(f"{path}: no {missing} in the header; is this an SG3 databank profile?")
    return head, meas


def read_result(path: Path) -> list[tuple[str, str, float]]:
    """``(label, reference, value)`` rows of one results file, in file order."""
    out = []
    for ln in path.read_text(encoding="utf-8-sig").splitlines():
        cells = ln.split(",")
        if len(cells) < 4 or not cells[0].strip() or cells[0].startswith("#"):
            continue
        out.append((cells[0].strip(), cells[1].strip(), float(cells[3])))
    return out


def _case_inputs(head: dict, row: list[float]) -> dict:
    zone = head["zone"]
    erp_dbw = row[_COL_ERP_DBW]
    if math.isnan(erp_dbw):  # power from the listed field strength and loss (Eq (70) inverted)
        ptx = 10.0 ** ((row[_COL_E] + row[_COL_LB] - 199.36 - 20.0 * math.log10(row[_COL_F_MHZ] / 1e3)) / 10.0)
    else:
        ptx = 10.0 ** (erp_dbw / 10.0) * 1e-3
    p = row[_COL_P] if not math.isnan(row[_COL_P]) else 50.0
    return dict(
        f=row[_COL_F_MHZ] / 1e3, p=p, d=head["d"], h=head["h"], R=head["R"], Ct=head["Ct"], zone=zone,
        htg=row[_COL_HTX], hrg=row[_COL_HRX], pol=int(row[_COL_POL]), phi_t=head["phi_t"], phi_r=head["phi_r"],
        lam_t=head["lam_t"], lam_r=head["lam_r"], pL=50.0, sigmaL=0.0, Ptx=ptx, DN=head["DN"], N0=head["N0"],
        dct=0.0 if zone[0] == 1 else 500.0, dcr=0.0 if zone[-1] == 1 else 500.0,
    )


def find_cases(folder: Path) -> list[ValidationCase]:
    """Every ``results/<name>_<k>.csv`` with its ``profiles/<name>.csv`` in ``folder``."""
    out = []
    for prof in sorted((folder / "profiles").glob("*.csv")):
        head, meas = read_profile(prof)
        for k, row in enumerate(meas, start=1):
            res = folder / "results" / f"{prof.stem}_{k}.csv"
            if not res.exists():
                continue
            out.append(
                ValidationCase(
                    name=f"{prof.stem}_{k}", inputs=_case_inputs(head, row), expected_E=row[_COL_E],
                    expected_Lb=row[_COL_LB], result_path=res, results=read_result(res),
                )
            )
    return out


#: Results label (and reference, where a label repeats) -> P1812Details field, in the
#: order the results list them (the order in which the method computes them).
RESULT_NAMES: dict[tuple[str, str], str] = {
    ("d (km)", ""): "d",
    ("dlt (km)", "Eq (78)"): "dlt",
    ("dlr (km)", "Eq (81a)"): "dlr",
    ("th_t (mrad)", "Eqs (76-78)"): "th_t",
    ("th_r (mrad)", "Eqs (79-81)"): "th_r",
    ("th (mrad)", "Eq (82)"): "th",
    ("hts (m)", ""): "hts",
    ("hrs (m)", ""): "hrs",
    ("htc (m)", "Table 5"): "htc",
    ("hrc (m)", "Table 5"): "hrc",
    ("w", "Table 5"): "w",
    ("dtm (km)", "Sec 3.6"): "dtm",
    ("dlm (km)", "Sec 3.6"): "dlm",
    ("phi (deg)", "Eq (4)"): "phi",
    ("b0 (%)", "Eq (5)"): "b0",
    ("ae (km)", "Eq (7a)"): "ae",
    ("hst (m)", "Eq (85)"): "hst_n",
    ("hsr (m)", "Eq (86)"): "hsr_n",
    ("hst (m)", "Eq (90a)"): "hst",
    ("hsr (m)", "Eq (90b)"): "hsr",
    ("hstd (m)", "Eq (89)"): "hstd",
    ("hsrd (m)", "Eq (89)"): "hsrd",
    ("htc' (m)", "Eq (37a)"): "htc1",
    ("hrc' (m)", "Eq (37b)"): "hrc1",
    ("hte (m)", "Eq (92a)"): "hte",
    ("hre (m)", "Eq (92b)"): "hre",
    ("hm (m)", "Eq (93)"): "hm",
    ("Fi", "Eq (40)"): "Fi",
    ("Fj", "Eq (57)"): "Fj",
    ("Fk", "Eq (58)"): "Fk",
    ("Lbfs", "Eq (8)"): "Lbfs",
    ("Lb0p", "Eq (10)"): "Lb0p",
    ("Lb0b", "Eq (11)"): "Lb0b",
    ("Lbulla (dB)", "Eq (21)"): "Lbulla",
    ("Lbulls (dB)", "Eq (21)"): "Lbulls",
    ("Ldsph (dB)", "Eq (27)"): "Ldsph",
    ("Ld50 (dB)", "Eq (39)"): "Ld50",
    ("Ldb (dB)", "Eq (39)"): "Ldb",
    ("Ldp (dB)", "Eq (41)"): "Ldp",
    ("Lbd50 (dB)", "Eq (42)"): "Lbd50",
    ("Lbd (dB)", "Eq (43)"): "Lbd",
    ("Lminb0p (dB)", "Eq (59)"): "Lminb0p",
    ("Lba (dB)", "Eq (46)"): "Lba",
    ("Lminbap (dB)", "Eq (60)"): "Lminbap",
    ("Lbda (dB)", "Eq (61)"): "Lbda",
    ("Lbam (dB)", "Eq (62)"): "Lbam",
    ("Lbs (dB)", "Eq (44)"): "Lbs",
    ("Lbc (dB)", "Eq (63)"): "Lbc",
    ("Lb (dB)", "Eq (69)"): "Lb",
    ("Ep (dBuV/m)", "Eq (70)"): "Ep",
    ("Ep (dBuV/m) w.r.t. Ptx", ""): "Ep_Ptx",
}

#: Input rows of the results -> how to get them from the reader's inputs.
INPUT_NAMES: dict[str, object] = {
    "Ptx (kW)": lambda a: a["Ptx"],
    "f (GHz)": lambda a: a["f"],
    "p (%)": lambda a: a["p"],
    "pL (%)": lambda a: a["pL"],
    "sigmaL (dB)": lambda a: a["sigmaL"],
    "phi_t (deg)": lambda a: a["phi_t"],
    "phi_r (deg)": lambda a: a["phi_r"],
    "lam_t (deg)": lambda a: a["lam_t"],
    "lam_r (deg)": lambda a: a["lam_r"],
    "htg (m)": lambda a: a["htg"],
    "hrg (m)": lambda a: a["hrg"],
    "pol": lambda a: a["pol"],
    "DN": lambda a: a["DN"],
    "N0": lambda a: a["N0"],
    "dct (km)": lambda a: a["dct"],
    "dcr (km)": lambda a: a["dcr"],
    "R2 (m)": lambda a: a["R"][1],
    "Rn-1 (m)": lambda a: a["R"][-2],
    "Ct Tx": lambda a: a["Ct"][0],
    "Ct Rx": lambda a: a["Ct"][-1],
}

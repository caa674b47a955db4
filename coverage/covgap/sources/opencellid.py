"""OpenCelliD cell lists: the per-country (per-MCC) file, or the full file filtered by MCC.

Downloads need a personal token (free at opencellid.org). covgap reads it from the
environment variable ``OPENCELLID_TOKEN`` (or the config's ``[sources.towers] token``, which
is discouraged: config files get shared). The token is **never** printed, logged or written
to a manifest: every URL and every server message is passed through
:func:`covgap.sources.http.redact`.

OpenCelliD answers a bad or rate-limited token with **HTTP 200** and the body
``INVALID_TOKEN`` or ``RATE_LIMITED`` instead of gzip data; :func:`fetch_opencellid` matches
those codes exactly (:data:`ERROR_ANSWERS`) and raises a :class:`~covgap.errors.FetchError`
that says which it was and what to do; any other text answer is shown as it is. Download
limits (OpenCelliD wiki, "Database format"): the full file ``cell_towers.csv.gz`` (about
116 MB compressed) once per day per token; the files change nightly around 03:00 UTC.

File format: gzip CSV with the columns ``radio, mcc, net, area, cell, unit, lon, lat, range,
samples, changeable, created, updated, averageSignal``; the full file has a header line, the
per-country files have **no header row** — :func:`covgap.towers.read_cells` handles both. The
MCC-filtered file covgap writes from the full file keeps the header.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError, FetchError
from ..towers import OPENCELLID_COLUMNS
from . import validate as _v
from .cache import Cache
from .catalog import CHECKED, SOURCES, opencellid_path
from .http import redact

__all__ = [
    "TOKEN_ENV",
    "OPENCELLID_COLUMNS",
    "resolve_token",
    "ERROR_ANSWERS",
    "check_token_answer",
    "fetch_opencellid",
]

#: Environment variable holding the OpenCelliD token.
TOKEN_ENV = "OPENCELLID_TOKEN"


def resolve_token(
    config_token: str | None = None,
    *,
    env_var: str = TOKEN_ENV,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Return the OpenCelliD token from ``env_var`` (first) or the config; a clear error if neither."""
    env = os.environ if environ is None else environ
    tok = (env.get(env_var) or config_token or "").strip()
    if not tok:
        raise ConfigError(
            f"OpenCelliD needs an access token and none was found. Fix: get a free token at "
            f"https://opencellid.org (My account → tokens) and set it in the environment: "
            f"`export {env_var}=...` (preferred over writing it into the config file)."
        )
    if any(c.isspace() for c in tok) or "&" in tok or "=" in tok:
        raise ConfigError(
            f"the OpenCelliD token in {env_var} contains spaces or '&'/'='; expected a single "
            "word such as pk.0123abcd…. Fix: copy the token again."
        )
    return tok


#: OpenCelliD's HTTP-200 error answers (the whole body, or the ``error``/``message``/``status`` of a
#: JSON body): code → (what happened, fix).
ERROR_ANSWERS: dict[str, tuple[str, str]] = {
    "INVALID_TOKEN": (
        "refused the token (INVALID_TOKEN)",
        f"check {TOKEN_ENV} (copy it again from opencellid.org → My account); a new token may take a few "
        "minutes to activate.",
    ),
    "RATE_LIMITED": (
        "refused the download: download limit reached (RATE_LIMITED)",
        "each token may download a file a limited number of times per day (the full file once); try again "
        "after the files are regenerated (about 03:00 UTC), keeping the cache so nothing is downloaded twice.",
    ),
}


def _answer_code(body: str) -> str | None:
    """The error code of an OpenCelliD text answer, matched exactly (never by loose words)."""
    text = body.strip()
    candidates = [text]
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        candidates += [str(obj.get(k, "")).strip() for k in ("error", "message", "status", "code")]
    elif isinstance(obj, str):
        candidates.append(obj.strip())
    for c in candidates:
        if c in ERROR_ANSWERS:
            return c
    return None


def check_token_answer(body: str, token: str = "") -> None:
    """Raise a specific :class:`FetchError` for OpenCelliD's HTTP-200 error answers.

    ``INVALID_TOKEN`` and ``RATE_LIMITED`` (the whole body, or a JSON body's ``error``) are
    matched exactly; any other text is reported as it is (redacted), since guessing from words
    such as "invalid" misreads answers.

    Examples
    --------
    >>> check_token_answer("INVALID_TOKEN", "pk.x")
    Traceback (most recent call last):
    ...
    covgap.errors.FetchError: OpenCelliD refused the token (INVALID_TOKEN). Fix: check OPENCELLID_TOKEN (copy it again from opencellid.org → My account); a new token may take a few minutes to activate.

    """
    code = _answer_code(body)
    if code is not None:
        what, fix = ERROR_ANSWERS[code]
        raise FetchError(f"OpenCelliD {what}. Fix: {fix}")
    shown = redact(body.strip(), [token])[:200]
    raise FetchError(
        f"OpenCelliD answered text instead of gzip data: {shown!r}. Fix: check the token and the MCC, "
        "and try again later."
    )


def _may_fall_back(message: str, refused: list[str], text_answer: bool) -> bool:
    """Whether a failed per-country download may be replaced by the full file (see fetch_opencellid)."""
    if refused:  # INVALID_TOKEN / RATE_LIMITED: the full file would be refused too
        return False
    if text_answer:  # an HTML or text page instead of the file
        return True
    if "gave up after" in message:  # network or server failure after every retry
        return False
    m = re.search(r"HTTP (\d{3})", message)
    return m is not None and m.group(1) not in ("401", "403")


def fetch_opencellid(
    cache: Cache, mcc: int, *, token: str | None = None, fallback_full: bool = True
) -> Path:
    """Fetch the cell list of one mobile country code (Vietnam: 452); return the cached ``.csv.gz``.

    Tries the per-country file first. With ``fallback_full`` it downloads the full file (about
    116 MB compressed, resumable) and writes the rows of ``mcc`` to ``opencellid/{mcc}.csv.gz``
    (with a header line) **when the per-country file is not to be had for this MCC**: HTTP 404 or
    410, another HTTP error that is not about access and not retried, or an answer that is text
    (an HTML or text page) but none of OpenCelliD's error codes. It does **not** fall back when
    the answer says the token is bad or the limit is reached (:data:`ERROR_ANSWERS`: the full file
    would be refused too), on HTTP 401/403, when the network or server failed after every retry,
    or when the per-country gzip itself is damaged.
    """
    mcc = int(mcc)
    rel = Path("opencellid") / f"{mcc}.csv.gz"
    if cache.has(rel):
        return cache.path(rel)
    if cache.offline:
        cache.fetch(
            cache.endpoints.url("opencellid", opencellid_path("TOKEN", mcc=mcc)),
            rel,
            info={"source": "OpenCelliD"},
        )  # records it as missing and raises
    tok = resolve_token(token)
    src = SOURCES["opencellid"]
    info = {
        "source": src.name,
        "mcc": mcc,
        "licence": src.licence,
        "attribution": src.attribution,
        "pattern_checked": CHECKED,
        "caveat": "Cell positions are averaged phone GPS fixes, not mast positions (see covgap.towers).",
    }

    refused: list[str] = []
    text_answer: list[bool] = []

    def on_text(body: str) -> None:
        text_answer.append(True)
        code = _answer_code(body)
        if code is not None:
            refused.append(code)
        check_token_answer(body, tok)

    check = _v.gzip_csv(min_columns=13, on_text=on_text)
    try:
        return cache.fetch(
            cache.endpoints.url("opencellid", opencellid_path(tok, mcc=mcc)),
            rel,
            validate=check,
            info={**info, "release": "per-country export (type=mcc)"},
            secrets=[tok],
        )
    except FetchError as exc:
        if not (fallback_full and _may_fall_back(str(exc), refused, bool(text_answer))):
            raise
    full_rel = Path("opencellid") / "cell_towers.csv.gz"
    full = cache.fetch(
        cache.endpoints.url("opencellid", opencellid_path(tok)),
        full_rel,
        validate=check,
        info={**info, "mcc": None, "release": "full export (type=full)"},
        secrets=[tok],
    )

    def make(tmp: Path) -> None:
        kept = 0
        with (
            gzip.open(full, "rt", encoding="utf-8", newline="") as src_f,
            gzip.open(tmp, "wt", encoding="utf-8", newline="") as dst,
        ):
            dst.write(",".join(OPENCELLID_COLUMNS) + "\n")
            for line in src_f:
                if line.startswith("radio,"):
                    continue
                parts = line.split(",", 2)
                if len(parts) > 2 and parts[1].strip() == str(mcc):
                    dst.write(line if line.endswith("\n") else line + "\n")
                    kept += 1
        if kept == 0:
            raise FetchError(
                f"{full}: no cell with MCC {mcc} in the full OpenCelliD file. Fix: check the MCC."
            )

    return cache.write_derived(
        rel,
        make=make,
        derived_from=[full],
        info={**info, "release": f"full export filtered to MCC {mcc}"},
    )

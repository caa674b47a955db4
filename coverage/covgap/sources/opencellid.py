"""OpenCelliD cell lists: the per-country (per-MCC) file, or the full file filtered by MCC.

Downloads need a personal token (free at opencellid.org). covgap reads it from the
environment variable ``OPENCELLID_TOKEN`` (or the config's ``[sources.towers] token``, which
is discouraged: config files get shared). The token is **never** printed, logged or written
to a manifest: every URL and every server message is passed through
:func:`covgap.sources.http.redact`.

OpenCelliD answers a bad or rate-limited token with **HTTP 200** and a short JSON or text
body instead of gzip data; :func:`fetch_opencellid` recognises that answer and raises a
:class:`~covgap.errors.FetchError` that says which it was and what to do. Download limits
(OpenCelliD wiki, "Database format"): the full file ``cell_towers.csv.gz`` once per day per
token; the files change nightly around 03:00 UTC.

File format (both files): gzip CSV with the columns ``radio, mcc, net, area, cell, unit,
lon, lat, range, samples, changeable, created, updated, averageSignal``; the full file has
a header line, some per-country exports have none — :func:`covgap.towers.read_cells`
handles both. The MCC-filtered file covgap writes from the full file keeps the header.
"""

from __future__ import annotations

import gzip
import json
import os
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


def check_token_answer(body: str, token: str = "") -> None:
    """Raise a specific :class:`FetchError` for OpenCelliD's HTTP-200 error answers (JSON or text).

    Examples
    --------
    >>> check_token_answer('{"error":"Invalid token"}', "pk.x")
    Traceback (most recent call last):
    ...
    covgap.errors.FetchError: OpenCelliD refused the token (answer: '{"error":"Invalid token"}'). Fix: check OPENCELLID_TOKEN (copy it again from opencellid.org → My account); a new token may take a few minutes to activate.

    """
    shown = redact(body.strip(), [token])[:200]
    message = shown
    try:
        obj = json.loads(body)
        if isinstance(obj, dict):
            message = str(obj.get("error") or obj.get("message") or obj.get("status") or obj)
    except ValueError:
        pass
    low = message.lower() + " " + body.lower()
    if "limit" in low or "exceeded" in low or "too many" in low or "rate" in low and "limit" in low:
        raise FetchError(
            f"OpenCelliD refused the download: daily download limit reached (answer: {shown!r}). Fix: the full "
            "file may be downloaded once per day per token; try again after 03:00 UTC tomorrow, or use the "
            "per-country file."
        )
    if "token" in low or "key" in low or "unauthor" in low or "denied" in low or "invalid" in low:
        raise FetchError(
            f"OpenCelliD refused the token (answer: {shown!r}). Fix: check {TOKEN_ENV} (copy it again from "
            "opencellid.org → My account); a new token may take a few minutes to activate."
        )
    raise FetchError(
        f"OpenCelliD answered text instead of gzip data: {shown!r}. Fix: check the token and try again."
    )


def fetch_opencellid(
    cache: Cache, mcc: int, *, token: str | None = None, fallback_full: bool = True
) -> Path:
    """Fetch the cell list of one mobile country code (Vietnam: 452); return the cached ``.csv.gz``.

    Tries the per-country file first; if the service has none (HTTP 404) and
    ``fallback_full`` is set, downloads the full file (about 1 GB compressed, resumable)
    and writes the rows of ``mcc`` to ``opencellid/{mcc}.csv.gz`` (with a header line).
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

    def on_text(body: str) -> None:
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
        if not (fallback_full and "HTTP 404" in str(exc)):
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

"""Vietnamese place names: mojibake repair, legacy code pages, and the normalised key names are matched by."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

from ..errors import DataFileError, InputError
from .provinces import _ALIASES_63, _tables

#: Prefixes and suffixes dropped from normalised province names (:func:`name_key`).
_PREFIXES = (
    "thanhphotructhuoctrunguong",
    "thanhpho",
    "tinh",
    "tp",
    "cityof",
    "provinceof",
    "province",
)
_SUFFIXES = ("municipality", "province", "city", "tinh")


# --------------------------------------------------------------------------- text repair
def _encode_sloppy(text: str, codec: str) -> bytes:
    """Encode like ``codec`` but pass code points < 256 that it cannot map as single bytes.

    Readers that decode bytes 0x80–0x9F as C1 controls (latin-1) or that left undefined cp125x bytes
    as they were produce such characters; this reverses either.
    """
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode(codec)
        except UnicodeEncodeError:
            if ord(ch) < 256:
                out.append(ord(ch))
            elif codec == "cp1258":  # a letter + tone mark that a normaliser composed
                out += _cp1258_form(ch).encode(codec)
            else:
                raise
    return bytes(out)


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258_form(text: str) -> str:
    """Return the Windows-1258 form: circumflex/breve/horn precomposed, tone marks combining."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if out and unicodedata.combining(ch) and ch not in _TONES:
            composed = unicodedata.normalize("NFC", out[-1] + ch)
            if len(composed) == 1:
                out[-1] = composed
                continue
        out.append(ch)
    return "".join(out)


def _redecode(s: str) -> str | None:
    """``s`` re-encoded with a wrong codec and decoded as UTF-8, if valid and shorter; else None."""
    best = None
    for codec in ("cp1252", "cp1258", "latin-1"):
        try:
            fixed = _encode_sloppy(s, codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if len(fixed) < len(s) and (best is None or len(fixed) < len(best)):
            best = fixed
    return best


def repair_text(text: str) -> str:
    r"""Repair one name: undo UTF-8-read-as-latin-1/cp1252/cp1258 mojibake, strip controls, NFC.

    The repair is kept only when the text re-encoded with the wrong codec is valid UTF-8 *and* the
    decoded result is shorter (multi-byte sequences collapse), so correct Vietnamese text is left as
    it is. Applied up to three times (double-encoded text).

    Examples
    --------
    >>> repair_text("HÃ\xa0 Ná»\x99i\t")
    'Hà Nội'
    >>> repair_text("Ä\x90Ã\xa0 Náºµng")
    'Đà Nẵng'
    >>> repair_text("Đà Nẵng")
    'Đà Nẵng'

    """
    if not isinstance(text, str):
        raise InputError(f"expected a name as text, got {type(text).__name__} {text!r}.")
    s = text
    for _ in range(3):
        fixed = _redecode(s)
        if (
            fixed is None
        ):  # a byte was lost somewhere (e.g. decoded with errors="replace"): word by word
            parts = re.split(r"( )", s)
            words = [_redecode(w) for w in parts]
            if all(w is None for w in words):
                break
            fixed = "".join(w if w is not None else p for w, p in zip(words, parts, strict=True))
        s = fixed
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Cc" or ch == " ")
    s = re.sub(r"\s+", " ", s).strip()
    return unicodedata.normalize("NFC", s)


def is_mojibake(text: str) -> bool:
    r"""Tell whether ``text`` looks like UTF-8 decoded with a wrong single-byte code page.

    Examples
    --------
    >>> is_mojibake("CÃ\xa0 Mau"), is_mojibake("Cà Mau")
    (True, False)

    """
    return _redecode(text) is not None or any(
        w is not None for w in (_redecode(p) for p in text.split(" "))
    )


def decode_legacy(raw: bytes, *, encoding: str | None = None) -> str:
    r"""Decode raw bytes of a name: UTF-8 if valid, else the given (or Windows-1258) code page.

    Examples
    --------
    >>> decode_legacy("Hà Nội".encode("utf-8"))
    'Hà Nội'
    >>> decode_legacy(b"\xd0a\xcc N\xe3\xdeng")  # Windows-1258: base letters + combining tones
    'Đà Nẵng'

    """
    if encoding is None:
        try:
            return unicodedata.normalize("NFC", raw.decode("utf-8"))
        except UnicodeDecodeError:
            encoding = "cp1258"
    try:
        return unicodedata.normalize("NFC", raw.decode(encoding))
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(
            f"cannot decode {raw!r} as {encoding}: {exc}. Fix: give the file's encoding "
            "(e.g. encoding='utf-8', 'cp1258'); a shapefile takes it from its .cpg file."
        ) from exc


def repair_names(names: pd.Series) -> tuple[pd.Series, int]:
    """Apply :func:`repair_text` to a column; return it and how many values changed."""
    fixed = names.map(lambda v: repair_text(v) if isinstance(v, str) else v)
    changed = sum(1 for a, b in zip(names, fixed, strict=True) if isinstance(a, str) and a != b)
    return fixed, changed


def name_key(text: str) -> str:
    r"""Return the matching key: repaired, no accents (đ → d), lower case, no prefix or punctuation.

    Examples
    --------
    >>> name_key("Thành phố Hồ Chí Minh"), name_key("Bà Rịa–Vũng Tàu"), name_key("Ä\x90Ã\xa0 Náºµng")
    ('hochiminh', 'bariavungtau', 'danang')

    """
    s = repair_text(text).replace("Đ", "D").replace("đ", "d")
    s = "".join(ch for ch in unicodedata.normalize("NFD", s) if not unicodedata.combining(ch))
    s = re.sub(r"[^a-z0-9]", "", s.lower())
    for p in _PREFIXES:
        if s.startswith(p) and len(s) > len(p) + 2:
            s = s[len(p) :]
            break
    for p in _SUFFIXES:
        if s.endswith(p) and len(s) > len(p) + 2:
            s = s[: -len(p)]
            break
    return s


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    t63 = _tables()[0]
    index: dict[str, str] = {}
    for row in t63.itertuples():
        for n in (row.name_vi, row.name_ascii, row.gb_shape_name, row.slug):
            k = name_key(n)
            if index.get(k, row.code) != row.code:
                raise DataFileError(
                    f"province name key {k!r} is ambiguous ({index[k]} vs {row.code})."
                )
            index[k] = row.code
    for k, c in _ALIASES_63.items():
        index.setdefault(k, c)
    return index

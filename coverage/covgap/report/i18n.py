"""Labels of every report in Vietnamese and English.

Reports take ``lang = "vi" | "en"``. Table columns keep their stable machine names (the same
names as in the GeoPackage and ``summary.json``); :func:`column_label` gives the human label a
report shows for them, and :func:`label` the label of any other piece of report text.

Vietnamese terms follow the usage of the Ministry of Information and Communications (now the
Ministry of Science and Technology) in its coverage programmes: *thôn/bản chưa có sóng di động*
(hamlets without mobile signal), *vùng lõm sóng* (coverage hole), *Tỉnh / Xã / Thôn/bản*.

Examples
--------
>>> label("population", "vi")
'Dân số'
>>> column_label("covered_4G", "en")
'Covered by 4G (people)'
>>> column_label("covered_4G", "vi")
'Được phủ sóng 4G (người)'
"""

from __future__ import annotations

import re

from ..errors import InputError

__all__ = ["LANGS", "check_lang", "label", "synthetic_banner", "column_label", "level_label", "status_label", "fmt_int", "fmt_pct", "fmt_range",
           "data_notes", "location_sentence", "model_title"]

#: Languages every label exists in.
LANGS = ("en", "vi")

_LABELS: dict[str, tuple[str, str]] = {
    # key: (en, vi)
    "synthetic_banner": ("SYNTHETIC DEMO: not real data", "DỮ LIỆU DEMO TỔNG HỢP: không phải dữ liệu thật"),
    "report_title": ("Mobile coverage gaps", "Vùng chưa có sóng di động"),
    "national_report": ("Study-area report", "Báo cáo toàn vùng nghiên cứu"),
    "province_report": ("Province report", "Báo cáo cấp tỉnh"),
    "study_area": ("Study area", "Vùng nghiên cứu"),
    "population": ("Population", "Dân số"),
    "population_total": ("Population (total)", "Tổng dân số"),
    "no_signal": ("No mobile signal", "Không có sóng di động"),
    "people_no_signal": ("People without any mobile signal", "Số người không có sóng di động"),
    "people_no_signal_range": ("People without any mobile signal, P10–P90 of {members} ensemble members",
                               "Số người không có sóng di động, P10–P90 của {members} lần mô phỏng"),
    "range_note": ("Ranges: {range}; 10 % of the ensemble members give fewer people without signal than P10, "
                   "10 % more than P90 (inputs varied: {inputs}).",
                   "Khoảng: {range}; 10 % số lần mô phỏng cho ít người không có sóng hơn P10, 10 % nhiều hơn P90 "
                   "(đầu vào thay đổi: {inputs})."),
    "no_signal_probability": ("Probability of no signal (ensemble)", "Xác suất không có sóng (tập mô phỏng)"),
    "share_no_signal": ("Share without any signal", "Tỷ lệ không có sóng"),
    "people_without_4G": ("People without 4G", "Số người chưa có sóng 4G"),
    "covered": ("Covered", "Có sóng"),
    "gap_clusters": ("Gap clusters", "Cụm vùng lõm sóng"),
    "gap_cluster": ("Gap cluster", "Cụm vùng lõm sóng"),
    "hamlets": ("Hamlets", "Thôn/bản"),
    "hamlets_without_signal": ("Hamlets without signal or with 2G only", "Thôn/bản chưa có sóng hoặc chỉ có 2G"),
    "hamlets_no_signal": ("Hamlets without mobile signal", "Thôn/bản không có sóng di động"),
    "hamlets_2g_only": ("Hamlets with 2G only", "Thôn/bản chỉ có 2G"),
    "towers": ("Towers", "Trạm phát sóng"),
    "sites": ("Sites", "Trạm"),
    "transmitters": ("Transmitters", "Máy phát"),
    "operator": ("Operator", "Nhà mạng"),
    "operators": ("Operators", "Nhà mạng"),
    "technology": ("Technology", "Công nghệ"),
    "missing_technologies": ("Missing technologies (share of people without)",
                             "Công nghệ còn thiếu (tỷ lệ người chưa có)"),
    "coverage": ("Coverage", "Vùng phủ sóng"),
    "coverage_by_technology": ("Population covered by technology", "Dân số được phủ sóng theo công nghệ"),
    "coverage_layer": ("{tech} coverage (darker = more operators)", "Vùng phủ {tech} (đậm hơn = nhiều nhà mạng hơn)"),
    "coverage_probability_layer": ("{tech}: share of locations with signal ({pct:g} % covered where ≥ {frac:g})",
                                   "{tech}: tỷ lệ vị trí có sóng (phủ {pct:g} % khi ≥ {frac:g})"),
    "landcover_layer": ("Land cover (P.1812 clutter height R)", "Lớp phủ mặt đất (độ cao vật cản R theo P.1812)"),
    "coverage_probability": ("Coverage probability (best server)", "Xác suất phủ sóng (trạm tốt nhất)"),
    "uncovered_share_by": ("Share without signal by {level}", "Tỷ lệ không có sóng theo {level}"),
    "hillshade": ("Terrain (hillshade)", "Địa hình (bóng đổ)"),
    "elevation": ("Elevation (m)", "Độ cao (m)"),
    "population_density": ("People per cell", "Số người mỗi ô lưới"),
    "towers_of": ("Towers: {operator}", "Trạm: {operator}"),
    "legend": ("Legend", "Chú giải"),
    "name": ("Name", "Tên"),
    "code": ("Code", "Mã"),
    "rank": ("Rank", "Hạng"),
    "status": ("Status", "Tình trạng"),
    "distance_km": ("Distance to nearest site (km)", "Khoảng cách tới trạm gần nhất (km)"),
    "elevation_m": ("Elevation (m)", "Độ cao (m)"),
    "area_km2": ("Area (km²)", "Diện tích (km²)"),
    "model": ("Coverage model", "Mô hình vùng phủ"),
    "model_parameters": ("Model and parameters", "Mô hình và tham số"),
    "sources": ("Sources and licences", "Nguồn dữ liệu và giấy phép"),
    "source": ("Source", "Nguồn"),
    "licence": ("Licence", "Giấy phép"),
    "release": ("Release", "Phiên bản"),
    "file": ("File", "Tệp"),
    "role": ("Input", "Dữ liệu đầu vào"),
    "checksum": ("SHA-256", "SHA-256"),
    "notes": ("How the inputs were read", "Cách đọc dữ liệu đầu vào"),
    "generated_by": ("Generated by covgap {version}", "Tạo bởi covgap {version}"),
    "interactive_map": ("Interactive map", "Bản đồ tương tác"),
    "static_maps": ("Maps", "Bản đồ"),
    "key_figures": ("Key figures", "Số liệu chính"),
    "ranked_units": ("{levels} ranked by people without signal", "{levels} xếp theo số người không có sóng"),
    "top_clusters": ("Largest gap clusters", "Các cụm vùng lõm sóng lớn nhất"),
    "none": ("none", "không có"),
    "outside_units": ("People outside all units", "Số người ngoài mọi đơn vị hành chính"),
    "page": ("Page", "Trang"),
    "uncovered_map": ("People without any signal", "Người dân không có sóng"),
    "share_axis": ("Share without any signal", "Tỷ lệ không có sóng"),
    "population_note": ("Population nodata is counted as 0 people.",
                        "Ô lưới không có số liệu dân số được tính là 0 người."),
    "method_note": ("Coverage is modelled, not measured: check gaps on the ground before investing.",
                    "Vùng phủ sóng là kết quả mô hình, không phải đo đạc: cần kiểm tra thực địa trước khi đầu tư."),
    "thin_data_note": ("Tower data thin: a gap cluster with fewer than {n} recorded sites within {radius} km of its "
                       "centre may be missing tower data (OpenCelliD is thin in remote areas) rather than missing signal.",
                       "Dữ liệu trạm thưa: cụm vùng lõm có ít hơn {n} trạm được ghi nhận trong bán kính {radius} km "
                       "quanh tâm có thể là do thiếu dữ liệu trạm (OpenCelliD thưa ở vùng sâu vùng xa) chứ không phải "
                       "do thiếu sóng."),
    "foreign_note": ("Foreign only: people reached only by a neighbouring country's network; they are not counted as "
                     "covered{counted}.",
                     "Chỉ có sóng nước ngoài: người dân chỉ bắt được sóng của mạng nước láng giềng; không được tính "
                     "là có sóng{counted}."),
    "foreign_counted": (" (this run counts them: count_foreign = true)",
                        " (lần chạy này có tính: count_foreign = true)"),
    "location_note": ("“Covered” = the signal reaches the threshold at {pct} % of locations; p50/p90 figures: at 50 %/90 %.",
                      "“Có sóng” = tín hiệu đạt ngưỡng tại {pct} % vị trí; số liệu p50/p90: tại 50 %/90 % vị trí."),
    "location_note_fixed": ("“Covered” = inside a coverage radius (no location spread): p50/p90 figures equal it.",
                            "“Có sóng” = trong bán kính phủ sóng (không có biến động theo vị trí): số liệu p50/p90 "
                            "bằng số liệu này."),
    "more_rows": ("… and {n} more in the Excel file", "… và {n} dòng khác trong tệp Excel"),
    "lon_lat": ("Lon, lat", "Kinh độ, vĩ độ"),
    "province_of": ("{name}", "{name}"),
    "all_units": ("All units", "Tất cả đơn vị"),
    "summary_sheet": ("Summary", "Tổng hợp"),
    "item": ("Item", "Mục"),
    "value": ("Value", "Giá trị"),
}

_LEVELS: dict[str, tuple[str, str, str, str]] = {
    # level: (en singular, en plural, vi singular, vi plural)
    "province": ("Province", "Provinces", "Tỉnh", "Các tỉnh"),
    "district": ("District", "Districts", "Huyện", "Các huyện"),
    "commune": ("Commune", "Communes", "Xã", "Các xã"),
    "hamlet": ("Hamlet", "Hamlets", "Thôn/bản", "Các thôn/bản"),
}

_STATUS: dict[str, tuple[str, str]] = {
    "covered": ("covered", "có sóng"),
    "no signal": ("no signal", "không có sóng"),
    "2G only": ("2G only", "chỉ có 2G"),
    "outside study area": ("outside study area", "ngoài vùng nghiên cứu"),
    "outside admin units": ("outside admin units", "ngoài các đơn vị hành chính"),
}

# Column labels: exact names first, then patterns with a {tech} / {level} / {lens} slot.
_COLUMNS: dict[str, tuple[str, str]] = {
    "code": ("Code", "Mã"),
    "name": ("Name", "Tên"),
    "level": ("Level", "Cấp"),
    "parent_code": ("Parent code", "Mã đơn vị cấp trên"),
    "population": ("Population", "Dân số"),
    "covered_any": ("Covered by any signal (people)", "Có sóng di động (người)"),
    "uncovered": ("Without any signal (people)", "Không có sóng di động (người)"),
    "uncovered_share": ("Share without any signal", "Tỷ lệ không có sóng"),
    "uncovered_area_km2": ("Area without signal (km²)", "Diện tích không có sóng (km²)"),
    "uncovered_p10": ("Without any signal, P10 of the ensemble (people)",
                      "Không có sóng, P10 của tập mô phỏng (người)"),
    "uncovered_p50": ("Without any signal, P50 of the ensemble (people)",
                      "Không có sóng, P50 của tập mô phỏng (người)"),
    "uncovered_p90": ("Without any signal, P90 of the ensemble (people)",
                      "Không có sóng, P90 của tập mô phỏng (người)"),
    "top_n_share": ("Share of ensemble members in the top N", "Tỷ lệ lần mô phỏng nằm trong nhóm N đầu"),
    "p_no_signal": ("Probability of no signal", "Xác suất không có sóng"),
    "sites": ("Sites", "Số trạm"),
    "rank": ("Rank", "Hạng"),
    "cluster_id": ("Cluster id", "Mã cụm"),
    "cells": ("Grid cells", "Số ô lưới"),
    "area_km2": ("Area (km²)", "Diện tích (km²)"),
    "centroid_lon": ("Centre longitude", "Kinh độ tâm"),
    "centroid_lat": ("Centre latitude", "Vĩ độ tâm"),
    "lon": ("Longitude", "Kinh độ"),
    "lat": ("Latitude", "Vĩ độ"),
    "distance_to_nearest_site_km": ("Distance to nearest site (km)", "Khoảng cách tới trạm gần nhất (km)"),
    "distance_to_border_km": ("Distance to land border (km)", "Khoảng cách tới biên giới (km)"),
    "elevation_m": ("Elevation (m)", "Độ cao (m)"),
    "hamlet_id": ("Hamlet id", "Mã thôn/bản"),
    "status": ("Status", "Tình trạng"),
    "technologies": ("Technologies", "Công nghệ"),
    "operators": ("Operators", "Nhà mạng"),
    "n_operators": ("Number of operators", "Số nhà mạng"),
    "missing_technologies": ("Missing technologies", "Công nghệ còn thiếu"),
    "site_id": ("Site id", "Mã trạm"),
    "operator": ("Operator", "Nhà mạng"),
    "mnc": ("MNC", "MNC"),
    "technology": ("Technology", "Công nghệ"),
    "antenna_height_m": ("Antenna height (m)", "Độ cao ăng-ten (m)"),
    "radius_km": ("Radius (km)", "Bán kính (km)"),
    "eirp_dbm": ("EIRP (dBm)", "EIRP (dBm)"),
    "frequency_mhz": ("Frequency (MHz)", "Tần số (MHz)"),
    "azimuth_deg": ("Azimuth (°)", "Góc phương vị (°)"),
    "beamwidth_deg": ("Beamwidth (°)", "Độ rộng búp sóng (°)"),
    "role": ("Input", "Dữ liệu đầu vào"),
    "path": ("File", "Tệp"),
    "layer": ("Layer", "Lớp"),
    "source": ("Source", "Nguồn"),
    "release": ("Release", "Phiên bản"),
    "licence": ("Licence", "Giấy phép"),
    "url": ("URL", "URL"),
    "sha256": ("SHA-256", "SHA-256"),
    "bytes": ("Bytes", "Dung lượng (byte)"),
    "item": ("Item", "Mục"),
    "value": ("Value", "Giá trị"),
    "elevation_popmean_m": ("Mean elevation of the people (m)", "Độ cao trung bình nơi dân cư (m)"),
    "technologies_present": ("Technologies present nearby", "Công nghệ hiện có"),
    "operators_present": ("Operators present", "Nhà mạng hiện có"),
    "missing_operators": ("Missing operators", "Nhà mạng còn thiếu"),
    "elevation_min_m": ("Lowest elevation (m)", "Độ cao thấp nhất (m)"),
    "elevation_mean_m": ("Mean elevation (m)", "Độ cao trung bình (m)"),
    "elevation_max_m": ("Highest elevation (m)", "Độ cao cao nhất (m)"),
    "ruggedness_mean_m": ("Mean ruggedness (m)", "Độ gồ ghề trung bình (m)"),
    "on_island": ("On an island", "Trên đảo"),
    "in_mountains": ("In mountains", "Vùng núi"),
    "covered_2G_only": ("2G only", "Chỉ có 2G"),
    "foreign_only": ("Foreign network only (people)", "Chỉ có sóng nước ngoài (người)"),
    "domestic_and_foreign": ("Domestic and foreign networks (people)", "Có sóng trong nước và nước ngoài (người)"),
    "no_network": ("No network at all (people)", "Không có mạng nào (người)"),
    "border_belt_foreign_only": ("Border belt: foreign network only (people)",
                                 "Vành đai biên giới: chỉ có sóng nước ngoài (người)"),
    "foreign_signal": ("Foreign signal", "Có sóng nước ngoài"),
    "foreign_operators": ("Foreign operators", "Nhà mạng nước ngoài"),
    "sites_per_1000km2": ("Sites per 1,000 km²", "Số trạm trên 1.000 km²"),
    "samples_per_1000km2": ("OpenCelliD samples per 1,000 km²", "Số mẫu OpenCelliD trên 1.000 km²"),
    "cells_seen_once": ("Cells seen once", "Số cell chỉ ghi nhận một lần"),
    "sites_within_km": ("Sites nearby (within the thin-data radius)", "Số trạm lân cận (trong bán kính kiểm tra)"),
    "tower_data_thin": ("Tower data thin", "Dữ liệu trạm thưa"),
    "country": ("Country", "Quốc gia"),
}
_PATTERNS: list[tuple[re.Pattern, tuple[str, str]]] = [
    (re.compile(r"^covered_any_p(?P<pct>\d+)$"), ("Covered by any signal at {pct} % of locations (people)",
                                                  "Có sóng di động tại {pct} % vị trí (người)")),
    (re.compile(r"^covered_(?P<tech>[2-5]G)_p(?P<pct>\d+)$"), ("Covered by {tech} at {pct} % of locations (people)",
                                                              "Được phủ sóng {tech} tại {pct} % vị trí (người)")),
    (re.compile(r"^covered_(?P<tech>[2-5]G)$"), ("Covered by {tech} (people)", "Được phủ sóng {tech} (người)")),
    (re.compile(r"^without_(?P<tech>[2-5]G)$"), ("Without {tech} (people)", "Chưa có sóng {tech} (người)")),
    (re.compile(r"^signal_margin_db_(?P<tech>[2-5]G)$"), ("{tech} signal margin (dB)", "Độ dự trữ tín hiệu {tech} (dB)")),
    (re.compile(r"^(?P<level>[a-z]+)_code$"), ("{Level} code", "Mã {level_vi}")),
    (re.compile(r"^(?P<level>[a-z]+)_name$"), ("{Level}", "{Level_vi}")),
    (re.compile(r"^(?P<lens>[a-z0-9_]+)_without_(?P<tech>[2-5]G)$"), ("{lens}: without {tech} (people)", "{lens}: chưa có {tech} (người)")),
    (re.compile(r"^(?P<lens>[a-z0-9_]+)_uncovered_share$"), ("{lens}: share without signal", "{lens}: tỷ lệ không có sóng")),
    (re.compile(r"^(?P<lens>[a-z0-9_]+)_population$"), ("{lens}: population", "{lens}: dân số")),
    (re.compile(r"^(?P<lens>[a-z0-9_]+)_uncovered$"), ("{lens}: without signal (people)", "{lens}: không có sóng (người)")),
    (re.compile(r"^(?P<lens>[a-z0-9_]+)_covered$"), ("{lens}: covered (people)", "{lens}: có sóng (người)")),
]
_LENS_NAMES: dict[str, tuple[str, str]] = {
    "belt": ("Border belt", "Vành đai biên giới"),
    "border_belt": ("Border belt", "Vành đai biên giới"),
    "island": ("Islands", "Hải đảo"),
    "islands": ("Islands", "Hải đảo"),
    "urban_centre": ("Urban centres", "Đô thị trung tâm"),
    "urban_cluster": ("Urban clusters", "Cụm đô thị"),
    "rural": ("Rural", "Nông thôn"),
    "mountain": ("Mountains", "Miền núi"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise :class:`~covgap.errors.InputError`."""
    if lang not in LANGS:
        raise InputError(f"report language {lang!r} is not supported; expected one of {LANGS}. "
                         "Fix: set [report] lang = \"vi\" or \"en\" in the config.")
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(check_lang(lang))]


def label(key: str, lang: str = "en", **fields: object) -> str:
    """Report text ``key`` in ``lang``, with ``{fields}`` filled in.

    Raises
    ------
    KeyError
        For an unknown key (a programming error, not user input).
    """
    text = _pick(_LABELS[key], lang)
    return text.format(**fields) if fields else text


def synthetic_banner(lang: str = "en") -> str:
    """The banner of every output made from the demo; always starts with ``SYNTHETIC DEMO``.

    Examples
    --------
    >>> synthetic_banner("en")
    'SYNTHETIC DEMO: not real data'
    """
    text = label("synthetic_banner", lang)
    return text if text.startswith("SYNTHETIC DEMO") else f"SYNTHETIC DEMO — {text}"


def level_label(level: str, lang: str = "en", *, plural: bool = False) -> str:
    """Name of an admin level: ``province`` → ``Province`` / ``Tỉnh``; unknown levels are title-cased."""
    check_lang(lang)
    if level not in _LEVELS:
        t = level.replace("_", " ").capitalize()
        return t + ("s" if plural and lang == "en" and not t.endswith("s") else "")
    en1, en2, vi1, vi2 = _LEVELS[level]
    if lang == "en":
        return en2 if plural else en1
    return vi2 if plural else vi1


def status_label(status: str, lang: str = "en") -> str:
    """Hamlet status (``no signal``, ``2G only`` …) in ``lang``; other technology lists pass through."""
    if status in _STATUS:
        return _pick(_STATUS[status], lang)
    check_lang(lang)
    if status.endswith(" only") and lang == "vi":
        return "chỉ có " + status[: -len(" only")]
    return status


def _lens(name: str, lang: str) -> str:
    if name in _LENS_NAMES:
        return _pick(_LENS_NAMES[name], lang)
    m = re.match(r"^border_(\d+)km$", name)
    if m:
        return ("Within {} km of the land border", "Trong phạm vi {} km từ biên giới")[LANGS.index(lang)].format(m[1])
    return name.replace("_", " ")


def column_label(column: str, lang: str = "en") -> str:
    """Human label of a table column (``covered_4G`` → ``Covered by 4G (people)``).

    Unknown columns come back unchanged, so a new column never breaks a report.
    """
    check_lang(lang)
    if column in _COLUMNS:
        return _pick(_COLUMNS[column], lang)
    for pat, pair in _PATTERNS:
        m = pat.match(column)
        if not m:
            continue
        g = m.groupdict()
        if "level" in g:
            lvl = g["level"]
            if lvl not in _LEVELS:
                continue
            return _pick(pair, lang).format(Level=level_label(lvl, "en"), level_vi=level_label(lvl, "vi").lower(),
                                            Level_vi=level_label(lvl, "vi"))
        if "lens" in g:
            return _pick(pair, lang).format(lens=_lens(g["lens"], lang), tech=g.get("tech", ""))
        return _pick(pair, lang).format(**g)
    return column


def data_notes(s: dict, lang: str) -> list[str]:
    """One sentence each on the tower-data confidence flag and (when present) foreign networks."""
    td = s.get("tower_data") or {}
    out = [label("thin_data_note", lang, n=td.get("thin_min_sites", 3), radius=f"{td.get('thin_radius_km', 20.0):g}")]
    fn = s.get("foreign_networks")
    if fn:
        out.append(label("foreign_note", lang, counted=label("foreign_counted", lang) if fn.get("count_foreign") else ""))
    return out


def location_sentence(summary: dict, lang: str = "en") -> str:
    """One sentence saying which location percentage the figures of ``summary`` (summary.json) use.

    Examples
    --------
    >>> location_sentence({"location_percent": 90.0,
    ...                    "location_probability": {"model_has_location_spread": True}}, "en")[:50]
    '“Covered” = the signal reaches the threshold at 90'
    """
    if not (summary.get("location_probability") or {}).get("model_has_location_spread", False):
        return label("location_note_fixed", lang)
    return label("location_note", lang, pct=f"{float(summary.get('location_percent', 50.0)):g}")


def fmt_int(value: float, lang: str = "en") -> str:
    """A count for people: ``12,345`` (en) or ``12.345`` (vi, Vietnamese digit grouping)."""
    check_lang(lang)
    s = f"{value:,.0f}"
    return s.replace(",", ".") if lang == "vi" else s


def fmt_range(value: float, low: float, high: float, lang: str = "en") -> str:
    """A figure with its ensemble range: ``812 (P10–P90: 540–1,130)``.

    Examples
    --------
    >>> fmt_range(812.4, 540.0, 1130.2)
    '812 (P10–P90: 540–1,130)'
    >>> fmt_range(1234.0, 1000.0, 1500.0, "vi")
    '1.234 (P10–P90: 1.000–1.500)'
    """
    return f"{fmt_int(value, lang)} (P10–P90: {fmt_int(low, lang)}–{fmt_int(high, lang)})"


def fmt_pct(share: float, lang: str = "en", *, digits: int = 1) -> str:
    """A share as a percentage: ``2.7 %`` (en) or ``2,7 %`` (vi, decimal comma)."""
    check_lang(lang)
    s = f"{100 * share:.{digits}f} %"
    return s.replace(".", ",") if lang == "vi" else s


def model_title(model: dict) -> str:
    """The coverage model as the reports name it (``model``: summary.json's ``model`` block): its
    kind, with the Recommendation (and its version number) and the mode where the model implements one;
    the version's date stays in the model's parameters (short enough for a PDF page's subtitle).

    Examples
    --------
    >>> model_title({"model": "p1812", "method": "ITU-R P.1812-6 (09/2021)", "p1812_method": "fast"})
    'p1812 (ITU-R P.1812-6, fast)'
    >>> model_title({"model": "terrain"})
    'terrain'
    """
    name = str(model.get("model", ""))
    method = str(model.get("method") or "").split(" (")[0]
    detail = [v for v in (method, str(model.get("p1812_method") or "")) if v]
    return f"{name} ({', '.join(detail)})" if detail else name

"""Polygon and line layers (admin units, borders): CRS required, layers listed when one is missing."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from ..config import InputRef
from ..errors import CRSError, DataFileError, InputError
from .rasters import _exists


def read_polygons(ref: InputRef, *, what: str, fields: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Read a polygon layer, require a CRS and the named fields, return it in EPSG:4326."""
    gdf = _read_vector(ref, what)
    missing = [f for f in fields if f not in gdf.columns]
    if missing:
        raise InputError(
            f"{what} {ref.path}{_layer(ref)}: missing field(s) {missing}; the layer has "
            f"{[c for c in gdf.columns if c != 'geometry']}. Fix: set code_field/name_field in the config."
        )
    bad = ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{what} {ref.path}{_layer(ref)}: feature {i + 1} is a {gdf.geom_type.iloc[i]}; expected "
                         f"polygons ({int(bad.sum())} of {len(gdf)} features are not). Fix: point the config at the "
                         "polygon layer of the units (not their centroids or boundaries).")
    invalid = ~gdf.is_valid
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, "geometry"] = gdf.loc[invalid, "geometry"].make_valid()
    return gdf


def read_lines(ref: InputRef, *, what: str = "border") -> gpd.GeoDataFrame:
    """Read a line layer (e.g. the land border) in EPSG:4326."""
    gdf = _read_vector(ref, what)
    if not gdf.geom_type.isin(["LineString", "MultiLineString"]).all():
        raise InputError(f"{what} {ref.path}{_layer(ref)}: expected line features (the land border, not polygons).")
    return gdf


def _layer(ref: InputRef) -> str:
    return f" (layer {ref.layer!r})" if ref.layer else ""


def _read_vector(ref: InputRef, what: str) -> gpd.GeoDataFrame:
    _exists(ref.path, what)
    try:
        kw: dict[str, Any] = {}
        if ref.layer:
            kw["layer"] = ref.layer
        if ref.encoding:
            kw["encoding"] = ref.encoding
        gdf = gpd.read_file(ref.path, engine="pyogrio", **kw)
    except Exception as exc:  # pyogrio raises several types
        layers = ""
        try:
            import pyogrio

            layers = f" (its layers: {[str(x[0]) for x in pyogrio.list_layers(ref.path)]})"
        except Exception:  # noqa: BLE001 - the file itself is unreadable
            pass
        raise DataFileError(
            f"{what} {ref.path}{_layer(ref)} cannot be read: {exc}{layers}. Fix: check that the file is a "
            "GeoPackage/shapefile/GeoJSON (not empty or truncated) and that the layer name in the config exists."
        ) from exc
    if gdf.crs is None:
        raise CRSError(
            f"{what} {ref.path}{_layer(ref)} has no CRS; covgap never guesses one. Fix: add a .prj "
            "(shapefile) or set the layer's CRS (ogr2ogr -a_srs EPSG:4326)."
        )
    if len(gdf) == 0:
        raise InputError(f"{what} {ref.path}{_layer(ref)} has no features. Fix: point the config at the layer that "
                         "holds the data.")
    return gdf.to_crs("EPSG:4326")


#: Vector formats read as point layers by :func:`read_points_table`.
_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")

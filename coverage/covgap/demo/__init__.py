"""A small, deterministic **SYNTHETIC** demo region for trying covgap without downloads.

:func:`make_demo_inputs` writes a complete set of covgap inputs for an invented region
shaped like Vietnam's north-east corner (a Quảng Ninh-like province group): a land border
with a neighbouring country in the north, a mountain belt along it, river valleys running
south to a coast, coastal lowlands and an inhabited island offshore. Nothing in it is
real: no real population, towers, terrain or boundaries. Every output made from it must
say so (:data:`DEMO_ATTRIBUTION`).

The grid is the WorldPop 100 m / Copernicus GLO-90 family: EPSG:4326, 3 arc-second cells,
``west = 107.0``, ``north = 22.2``, ``1200 × 960`` cells (107.0–108.0 E, 21.4–22.2 N).

Files written (all keyed by name in the returned dict):

================  ===========================================================================
key               content
================  ===========================================================================
``dem``           ``dem.tif``: float32 metres above sea level, sea = 0, nodata tag −32768
``population``    ``population.tif``: float32 people per cell, nodata −99999 outside the
                  demo country's land (neighbour country and sea), like a WorldPop raster
``admin``         ``admin.gpkg``: layers ``country``, ``neighbour``, ``land_border``,
                  ``provinces`` and ``communes`` (EPSG:4326); provinces and communes
                  partition the country
``hamlets``       ``hamlets.csv``: ``hamlet_id,name,lon,lat,province_code`` (UTF-8)
``towers``        ``towers.csv``: one row per transmitter, ``site_id,operator,mnc,
                  technology,lon,lat,antenna_height_m`` (about 5 % of sites without height)
``foreign_towers`` ``foreign_towers.csv``: a few towers of the neighbouring country (2–6 km behind
                  the land border), the towers' columns plus ``mcc`` (001, the test code) and
                  ``country``
``population_     ``population_constrained.tif``: the same people per commune, only in
constrained``     settlements (cells where the towns' and hamlets' own people reach 1 person
                  per cell), like a building-constrained grid
``landcover``     ``landcover.tif``: uint8 ESA WorldCover class codes (10 tree cover on the slopes,
                  40 cropland in the valleys, 50 built-up in towns, 80 water, 95 mangroves,
                  20/30 shrubs and grass up high), nodata 0; read only by the P.1812 model
``population_     ``population_unconstrained.tif``: the same people per commune, 60 % of them
unconstrained``   spread evenly over the commune's land (forest and uplands included), like an
                  unconstrained grid
================  ===========================================================================

The two variants keep every commune's total (so every province's) to float32 rounding and
change only where the people are inside it: the spread between them is the dependence of
"people without signal" on the population layer (:func:`covgap.compare.compare_population_layers`).

The same ``seed`` always gives the same arrays, tables and GeoTIFF bytes: every random
number comes from one :func:`numpy.random.default_rng` stream, consumed in a fixed order.

Examples
--------
>>> import tempfile
>>> paths = make_demo_inputs(tempfile.mkdtemp())  # doctest: +SKIP
>>> sorted(paths)  # doctest: +SKIP
['admin', 'dem', 'hamlets', 'population', 'towers']

"""


from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..grid import Grid
from ._common import (
    _GRID,
    _SYLLABLES_LOWLAND,
    _SYLLABLES_UPLAND,
    DEM_NODATA,
    DEMO_ATTRIBUTION,
    DEMO_CRS,
    DEMO_SHAPE,
    DEMO_TRANSFORM,
    POPULATION_NODATA,
    _NamePool,
)
from .people import (
    SETTLEMENT_MIN_PEOPLE,
    UNCONSTRAINED_SPREAD_SHARE,
    _hamlet_centres,
    _hamlets,
    _population,
    _population_variants,
    _towns,
)
from .landcover import _landcover
from .region import _admin, _as_multi, _country_shapes
from .terrain import _rivers, _terrain
from .towers import _foreign_towers, _towers

__all__ = [
    "DEMO_ATTRIBUTION",
    "DEMO_TRANSFORM",
    "DEMO_SHAPE",
    "DEMO_CRS",
    "DEM_NODATA",
    "POPULATION_NODATA",
    "SETTLEMENT_MIN_PEOPLE",
    "UNCONSTRAINED_SPREAD_SHARE",
    "demo_grid",
    "make_demo_inputs",
]



# --------------------------------------------------------------------------- writers
def _write_tif(
    path: Path, data: np.ndarray, *, nodata: float, units: str, description: str
) -> None:
    import rasterio

    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "height": DEMO_SHAPE[0],
        "width": DEMO_SHAPE[1],
        "crs": DEMO_CRS,
        "transform": DEMO_TRANSFORM,
        "nodata": nodata,
        "compress": "deflate",
        "predictor": 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.float32), 1)
        dst.update_tags(ATTRIBUTION=DEMO_ATTRIBUTION, UNITS=units, DESCRIPTION=description)
        dst.set_band_unit(1, units)
        dst.set_band_description(1, description)


def _write_landcover(path: Path, classes: np.ndarray) -> None:
    import rasterio

    profile = {"driver": "GTiff", "dtype": "uint8", "count": 1, "height": DEMO_SHAPE[0], "width": DEMO_SHAPE[1],
               "crs": DEMO_CRS, "transform": DEMO_TRANSFORM, "nodata": 0, "compress": "deflate", "tiled": True,
               "blockxsize": 256, "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(classes.astype(np.uint8), 1)
        dst.update_tags(ATTRIBUTION=DEMO_ATTRIBUTION, DESCRIPTION="land cover, ESA WorldCover class codes, SYNTHETIC")
        dst.set_band_description(1, "land cover class (ESA WorldCover codes), SYNTHETIC")


def _write_gpkg(path: Path, layers: dict[str, pd.DataFrame]) -> None:
    import geopandas as gpd
    import pyogrio

    if path.exists():
        path.unlink()
    # A fixed timestamp in gpkg_contents keeps the file identical between runs; GeoPackage
    # 1.2 keeps it readable by older GDAL (Debian 12's 3.6) and QGIS without warnings.
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2021-01-01T00:00:00.000Z"})
    try:
        for i, (name, df) in enumerate(layers.items()):
            gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=DEMO_CRS)
            gdf.to_file(
                path,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                dataset_options={"VERSION": "1.2"} if i == 0 else None,
                layer_options={"DESCRIPTION": DEMO_ATTRIBUTION},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")



# --------------------------------------------------------------------------- public
def demo_grid() -> Grid:
    """Return the demo rasters' :class:`~covgap.grid.Grid` (EPSG:4326, 3″, 960 × 1200 cells).

    Examples
    --------
    >>> demo_grid().shape
    (960, 1200)

    """
    return _GRID


def make_demo_inputs(directory: str | Path, *, seed: int = 2021) -> dict[str, Path]:
    """Write the SYNTHETIC demo region's inputs into ``directory`` and return their paths.

    Parameters
    ----------
    directory : str or Path
        Output folder; created if missing. Existing demo files in it are overwritten.
    seed : int
        Seed of the one random stream; the same seed gives the same files.

    Returns
    -------
    dict of str to Path
        ``dem``, ``population``, ``admin``, ``hamlets``, ``towers``, ``foreign_towers``, ``population_constrained``,
        ``population_unconstrained``, ``landcover`` (see the module docstring).

    Notes
    -----
    All data are invented (:data:`DEMO_ATTRIBUTION`). Generation takes a few seconds and
    touches no network.

    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    shapes = _country_shapes(rng)
    rivers = _rivers(rng, shapes)
    elev = _terrain(rng, shapes, rivers)
    names_up = _NamePool(rng, _SYLLABLES_UPLAND)
    names_low = _NamePool(rng, _SYLLABLES_LOWLAND)
    towns = _towns(rng, shapes, rivers, elev, names_low)
    clusters = _hamlet_centres(rng, shapes, elev, towns, names_up, names_low)
    pop = _population(rng, shapes, elev, towns, clusters)
    provinces, communes = _admin(rng, shapes, towns)
    hamlets = _hamlets(rng, clusters, towns, provinces, shapes, names_low)
    towers = _towers(rng, shapes, elev, rivers, towns, clusters, pop)

    paths = {
        "dem": out / "dem.tif",
        "population": out / "population.tif",
        "admin": out / "admin.gpkg",
        "hamlets": out / "hamlets.csv",
        "towers": out / "towers.csv",
        "foreign_towers": out / "foreign_towers.csv",
        "population_constrained": out / "population_constrained.tif",
        "population_unconstrained": out / "population_unconstrained.tif",
        "landcover": out / "landcover.tif",
    }
    _write_tif(
        paths["dem"],
        elev,
        nodata=DEM_NODATA,
        units="m",
        description="elevation above sea level (m), SYNTHETIC",
    )
    _write_tif(
        paths["population"],
        pop,
        nodata=POPULATION_NODATA,
        units="people",
        description="people per cell, SYNTHETIC",
    )
    layers = {
        "country": pd.DataFrame(
            {"code": ["VN"], "name": ["Việt Nam (demo)"], "geometry": [_as_multi(shapes.country)]}
        ),
        "neighbour": pd.DataFrame(
            {
                "code": ["NB"],
                "name": ["Neighbourland (demo)"],
                "geometry": [_as_multi(shapes.neighbour)],
            }
        ),
        "land_border": pd.DataFrame(
            {"name": ["Việt Nam (demo) – Neighbourland (demo)"], "geometry": [shapes.border]}
        ),
        "provinces": provinces,
        "communes": communes,
    }
    for key, arr in _population_variants(pop, towns, clusters, shapes, communes).items():
        _write_tif(paths[key], arr, nodata=POPULATION_NODATA, units="people",
                   description=f"people per cell, {key.split('_')[1]} variant, SYNTHETIC")
    _write_landcover(paths["landcover"], _landcover(seed, shapes, elev, rivers, pop))
    _write_gpkg(paths["admin"], layers)
    _write_csv(paths["hamlets"], hamlets)
    _write_csv(paths["towers"], towers)
    _write_csv(paths["foreign_towers"], _foreign_towers(shapes, seed))
    return paths

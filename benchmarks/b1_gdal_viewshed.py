"""Run GDAL's viewshed (python3-gdal, system Python) for benchmark b1; not part of covgap.

Usage: /usr/bin/python3 b1_gdal_viewshed.py DEM.tif OX OY OBS_H TGT_H CURV MAXDIST REPS OUT.npz

Times ``gdal.ViewshedGenerate`` to a MEM dataset ``REPS`` times (per-site time without
process start-up) and saves the last result with its geotransform.
"""

import sys
import time

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


def main() -> None:
    dem, ox, oy, oh, th, cc, md, reps, out = sys.argv[1:10]
    ds = gdal.Open(dem)
    band = ds.GetRasterBand(1)
    band.ReadAsArray()  # load into the block cache so the timings are the algorithm's
    times = []
    res = None
    for _ in range(int(reps)):
        t0 = time.perf_counter()
        res = gdal.ViewshedGenerate(band, "MEM", "", [], float(ox), float(oy), float(oh), float(th),
                                    255, 0, 0, -1, float(cc), gdal.GVM_Edge, float(md))
        times.append(time.perf_counter() - t0)
    arr = res.GetRasterBand(1).ReadAsArray()
    np.savez(out, visible=arr, geotransform=np.array(res.GetGeoTransform()), times=np.array(times),
             version=np.array(gdal.__version__))


if __name__ == "__main__":
    main()

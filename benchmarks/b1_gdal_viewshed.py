"""Run GDAL's viewshed (python3-gdal, system Python) for benchmark b1; not part of covgap.

Usage: /usr/bin/python3 b1_gdal_viewshed.py DEM.tif OX OY OBS_H TGT_H CURV MAXDIST REPS OUT.npz

Times ``gdal.ViewshedGenerate`` to a MEM dataset ``REPS`` times (per-site time without
process start-up) and saves the last result with its geotransform. With ``REPS`` = ``serve``
it waits on standard input instead: each line ``run`` times one call and prints its seconds,
``save`` writes OUT.npz, ``quit`` ends — so that a caller can alternate GDAL's calls with its own.
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

    def one():
        nonlocal res
        t0 = time.perf_counter()
        res = gdal.ViewshedGenerate(band, "MEM", "", [], float(ox), float(oy), float(oh), float(th),
                                    255, 0, 0, -1, float(cc), gdal.GVM_Edge, float(md))
        times.append(time.perf_counter() - t0)
        return times[-1]

    def save():
        arr = res.GetRasterBand(1).ReadAsArray()
        np.savez(out, visible=arr, geotransform=np.array(res.GetGeoTransform()), times=np.array(times),
                 version=np.array(gdal.__version__))

    if reps != "serve":
        for _ in range(int(reps)):
            one()
        save()
        return
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "run":
            print(repr(one()), flush=True)
        elif cmd == "save":
            save()
            print("saved", flush=True)
        elif cmd == "quit":
            break


if __name__ == "__main__":
    main()

"""Names and defaults shared by the whole library, each written once.

Physical constants cite their source; defaults that shape a figure say where they come from.
"""

from __future__ import annotations

__all__ = ["EARTH_RADIUS_M", "MODEL_KINDS", "DEMO_MODEL_KIND", "BORDER_BELT_KM", "DEFAULT_ANTENNA_HEIGHT_M",
           "DEFAULT_REACH_KM"]

#: Mean earth radius R1 of the IUGG (Moritz 1980, "Geodetic Reference System 1980"), metres.
EARTH_RADIUS_M = 6_371_008.8

#: Coverage model kinds a config or the CLI may name (``auto`` picks ``terrain`` with a DEM, else
#: ``radius``); built by :func:`covgap.models.make_model`.
MODEL_KINDS = ("radius", "hata", "terrain", "p1812")

#: The model ``covgap demo`` runs unless told otherwise: ITU-R P.1812-6, the model of record (the
#: demo is small enough for it: about a minute). ``kind = "auto"`` in a user's config still means the
#: terrain model where a DEM is given: see docs/design.md, "Which model is the default".
DEMO_MODEL_KIND = "p1812"

#: Width of the land-border belt in the reports (km): the belt the analysts' first question asks
#: about ("how many of them live within 20 km of the land border?", docs/GUIDE §6).
BORDER_BELT_KM = 20.0

#: Antenna height above ground when a towers file gives none (m): a typical rural macro mast
#: (ITU-R P.1546 and P.1812 examples use 10–37.5 m transmitter heights; 30 m is the common
#: planning assumption for rural macro sites, e.g. ECC Report 231's rural scenario).
DEFAULT_ANTENNA_HEIGHT_M = 30.0

#: The models' reach when nothing larger is configured (km): the Hata and terrain models' 20 km
#: validity limit (Okumura-Hata is published for 1-20 km; see covgap.models.hata). How far past
#: the study area `covgap fetch` fetches terrain and land cover, and what ``pad_km = "reach"`` pads.
DEFAULT_REACH_KM = 20.0

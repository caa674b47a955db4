# %% [markdown]
# # 06 · Province report for planners
#
# Hand the provincial planners their list: change `PROVINCE` (a code or a name) and `LANG` and run
# all cells. This writes, into `OUT`:
#
# * `report_<code>.xlsx` — the province's communes, gap clusters and hamlets, formatted for Excel
#   (frozen header row, number formats, sources and licences sheet);
# * `report_<code>.pdf` — a one-page A4 report to print;
# * `report_<code>.html` — a single-file report that works offline (maps, tables, interactive map).
#
# Every file says SYNTHETIC DEMO when made from the demo.

# %% tags=["parameters"]
CONFIG = None
DEMO_DIR = None
MODEL = "radius"
LANG = "vi"       # planners' reports default to Vietnamese
OUT = "out/notebooks/06_province_report"
CACHE_DIR = None
PROVINCE = None   # code or name; None = the province with most people without signal

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets
from pathlib import Path

from covgap.notebooks import load_analysis
from covgap.report import tables
from covgap.report.exports import write_province_package
from covgap.report.pdf import province_page

analysis = load_analysis(CONFIG, demo_dir=DEMO_DIR, model=MODEL, cache_dir=CACHE_DIR)
if PROVINCE is None:
    PROVINCE = tables.ranked_units(analysis, next(iter(analysis.units)))["code"].iloc[0]
view = tables.province_view(analysis, PROVINCE)
out = Path(OUT)
out.mkdir(parents=True, exist_ok=True)
print(view.name, view.code)

# %%
files = write_province_package(analysis, out, view.code, lang=LANG)
for kind, p in files.items():
    print(f"{kind}: {p}  ({p.stat().st_size / 1e6:.1f} MB)")

# %% [markdown]
# ## The printed page
#
# This is the PDF page as it will print (A4 portrait).

# %%
province_page(analysis, view.code, lang=LANG, page=1)

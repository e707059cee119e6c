"""Exported-cell statistics over the notebooks: how many cells export (`#| export` / `#| exports`), and how long they are.

Usage: `python tools/cell_stats.py [nbs/*.ipynb ...]` (default: every `nbs/*.ipynb`). Prints one line per notebook
(exported cells, median and max lines, cells over 40 lines), then the global count, median and max. A line counts when
it is not blank and not an nbdev directive (`#| ...`), so the numbers measure code, not layout.
"""
import json, re, statistics, sys
from pathlib import Path

EXPORT = re.compile(r"^#\|\s*export(s|i)?\b")

def exported_cells(path):
    "Line counts of the exported code cells of the notebook at `path`."
    cells = json.loads(Path(path).read_text())["cells"]
    out = []
    for c in cells:
        if c["cell_type"] != "code": continue
        lines = "".join(c["source"]).splitlines()
        if not any(EXPORT.match(l.strip()) for l in lines): continue
        out.append(sum(1 for l in lines if l.strip() and not l.strip().startswith("#|")))
    return out

def main(paths):
    allc = []
    print(f"{'notebook':34} {'cells':>5} {'median':>6} {'max':>4} {'>40':>4}")
    for p in paths:
        n = exported_cells(p)
        if not n: continue
        allc += n
        print(f"{Path(p).name:34} {len(n):5d} {statistics.median(n):6.1f} {max(n):4d} {sum(x > 40 for x in n):4d}")
    print(f"{'ALL':34} {len(allc):5d} {statistics.median(allc):6.1f} {max(allc):4d} {sum(x > 40 for x in allc):4d}")

if __name__ == "__main__":
    main(sys.argv[1:] or sorted(Path(__file__).resolve().parent.parent.glob("nbs/*.ipynb")))

"""The documentation site (`make docs`): a page per notebook, every local link and image of the pages exists."""
import re, shutil
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO/"_docs"

def _built():
    if not (DOCS/"index.html").exists():
        why = "quarto is not installed" if shutil.which("quarto") is None else "quarto is installed"
        pytest.skip(f"no documentation site in _docs/ ({why}): run `make docs` first (~1.5 min on 2 cores)")

def test_a_page_per_notebook():
    _built()
    nbs = {p.stem for p in (REPO/"nbs").glob("*.ipynb")}
    pages = {p.stem for p in DOCS.rglob("*.html")}
    stems = {n.split("_", 1)[1] if re.match(r"\d+_", n) else n for n in nbs}     # quarto names pages without the number
    assert not {n for n in nbs if n not in pages and (n.split("_", 1)[-1] not in pages)}, sorted(nbs - pages)
    assert len(pages) >= len(stems)

def test_local_links_and_images_exist():
    _built()
    missing = []
    for page in DOCS.rglob("*.html"):
        html = page.read_text(errors="replace")
        for ref in re.findall(r'(?:href|src)="([^"]+)"', html):
            if re.match(r"^(?:[a-z][a-z0-9+.-]*:|#|//)", ref): continue          # external, data: and in-page links
            target = ref.split("#")[0].split("?")[0]
            if not target: continue
            path = (DOCS/target.lstrip("/")) if target.startswith("/") else (page.parent/target)
            if not path.exists(): missing.append(f"{page.relative_to(DOCS)} -> {ref}")
    assert not missing, "\n".join(missing[:30])

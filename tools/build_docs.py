"""`make docs`: the documentation site in `_docs/`, built by nbdev from the notebooks, offline.

nbdev runs, for the API pages, every cell that holds an import: also our test and experiment cells, which mix
imports with code (a NameError in 00_core, real training in the stage notebooks). Here only the cells nbdev's FAQ
means are run: exported ones, `#| exec_doc` ones and cells of imports alone. nbdev never installs anything here:
with Quarto (`quarto` in this venv or on PATH) this is `nbdev_docs`; the registry's `quarto-cli` is a source package that
downloads its binary while installing, so it cannot be a pinned offline dev requirement;
without it nbdev's processed notebooks (`_proc/`, with their `show_doc` API sections) are rendered by nbconvert,
one page per notebook, and nbdev is not asked to install Quarto (it would `pip install` the repository).
"""
import ast, os, re, shutil, subprocess, sys, time
from pathlib import Path

import nbdev.processors as P

def _do_eval(cell):
    "nbdev's rule, less the cells that mix imports with other code."
    if not P._do_eval_nbdev(cell): return False
    if cell.directives_.keys() & {"export", "exports", "exporti", "exec_doc"}: return True
    return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in cell.parsed_())

P._do_eval_nbdev, P._do_eval = P._do_eval, _do_eval

def render_offline(proc: Path, out: Path):
    "Each processed notebook as `<stem>.html` (index -> index.html), `.ipynb` links pointed at the pages, images copied."
    import nbformat
    from nbconvert import HTMLExporter
    exp = HTMLExporter(template_name="lab")
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    for nb_path in sorted(proc.glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for c in nb.cells:
            if c.cell_type == "markdown":     # quarto's callout / div fences are plain text to nbconvert
                c.source = re.sub(r"^:::.*$", "", c.source, flags=re.M)
        html, _ = exp.from_notebook_node(nb)
        html = re.sub(r'(href="(?!https?:|#|/)[^"#]*?)\.ipynb', r"\1.html", html)
        # README's links to the notebooks' Markdown renders (docs/<name>.md) -> that notebook's page
        html = re.sub(r'href="(?:\./)?docs/([^"#/]+)\.md', lambda m: f'href="{m[1]}.html' if (proc/f"{m[1]}.ipynb").exists() else m[0], html)
        (out/f"{nb_path.stem}.html").write_text(html)
    for p in proc.rglob("*"):                      # images and other files the pages refer to
        if p.is_file() and p.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".svg", ".css"}:
            (out/p.relative_to(proc)).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(p, out/p.relative_to(proc))

def main():
    from nbdev.config import get_config
    cfg = get_config(); t0 = time.time()
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")   # this environment's quarto and pip first
    n = 0          # in this process: spawned workers would not see the `_do_eval` above
    if shutil.which("quarto"):
        from nbdev.quarto import nbdev_docs
        nbdev_docs.__wrapped__(n_workers=n)
        how = "quarto"
    else:
        import nbdev.doclinks
        from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
        from nbdev.serve import proc_nbs
        refresh_quarto_yml(); nbdev.doclinks._build_modidx(); nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
        proc = proc_nbs(cfg.nbs_path, n_workers=n)
        render_offline(Path(proc), cfg.doc_path)
        how = "nbconvert (no quarto on PATH)"
    pages = sorted(p.name for p in Path(cfg.doc_path).glob("*.html"))
    print(f"docs: {len(pages)} pages in {cfg.doc_path} via {how}, {time.time() - t0:.0f}s")

if __name__ == "__main__": main()

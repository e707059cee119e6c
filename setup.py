"""Package metadata comes from settings.ini (nbdev 2). No pkg_resources: setuptools 82 removed it."""
import json, shutil
from configparser import ConfigParser
from pathlib import Path
import setuptools
from setuptools.command.build_py import build_py


class build_py_with_stages(build_py):
    "Ship the stage notebooks (nbs/ notebooks with a `parameters` cell) as package data in `oodgen/stages/`: `oodgen run` finds them in a wheel."
    def run(self):
        super().run()
        dest = Path(self.build_lib) / "oodgen" / "stages"
        dest.mkdir(parents=True, exist_ok=True)
        for nb in sorted((Path(__file__).parent / "nbs").glob("[0-9]*.ipynb")):
            cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
            if any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells):
                shutil.copyfile(nb, dest / nb.name)

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
statuses = ["Planning", "Pre-Alpha", "Alpha", "Beta", "Production/Stable", "Mature", "Inactive"]
lic = licenses[cfg["license"]]
requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
# extras from `extras_<name>` keys; `all` is every extra; `dev` (what `make test` / `make demo` install) includes `all`
extras = {k.removeprefix("extras_"): v.split() for k, v in cfg.items() if k.startswith("extras_")}
extras["all"] = sorted({r for reqs in extras.values() for r in reqs})
extras["dev"] = dev_requirements + extras["all"]
readme = Path(__file__).parent / "README.md"

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    license=lic[0],
    description=cfg["description"],
    long_description=readme.read_text(encoding="utf-8") if readme.exists() else "",
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    url=cfg["git_url"],
    keywords=cfg["keywords"].split(),
    classifiers=[
        f"Development Status :: {int(cfg['status'])} - {statuses[int(cfg['status'])]}",
        f"Intended Audience :: {cfg['audience']}",
        f"License :: {lic[1]}",
        f"Natural Language :: {cfg['language']}",
        "Programming Language :: Python :: 3.11",
    ],
    packages=setuptools.find_packages(include=["oodgen", "oodgen.*"]),
    include_package_data=True,
    package_data={"oodgen": ["assets/*", "assets/frost/*"]},
    python_requires=f">={cfg['min_python']}",
    install_requires=requirements,
    extras_require=extras,
    entry_points={
        "console_scripts": cfg["console_scripts"].split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
    cmdclass={"build_py": build_py_with_stages},
    zip_safe=False,
)

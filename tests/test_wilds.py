"""WILDS sets through the real `wilds` package (`wilds.get_dataset(..., download=False)`) on tiny local copies in
WILDS' own layouts, made here: domains from metadata, labels, pixels, the official splits, clear errors, and the
download script against a local HTTP server. Skipped only where `wilds` is not installed."""
import importlib.util, io, sys, tarfile, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from oodgen.data.domains import dataset_domains, dataset_targets, get_dataset, split_domains

REPO = Path(__file__).resolve().parents[1]


def img(path: Path, value: int, size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path)


def waterbirds(root: Path) -> pd.DataFrame:
    "waterbirds_v1.0/: metadata.csv (img_id, img_filename, y, split, place, place_filename) + images; 12 rows."
    d = root / "waterbirds_v1.0"
    rows = [(y, place, split) for split in (0, 1, 2) for y in (0, 1) for place in (0, 1)]
    df = pd.DataFrame([{"img_id": i, "img_filename": f"{'001.Albatross' if y else '002.Sparrow'}/im_{i}.jpg", "y": y,
                        "split": s, "place": p, "place_filename": f"/x/{i}.jpg"} for i, (y, p, s) in enumerate(rows)])
    for i, f in enumerate(df.img_filename): img(d / f, 10 * i)
    df.to_csv(d / "metadata.csv", index=False); (d / "RELEASE_v1.0.txt").write_text("v1.0")
    return df


def camelyon17(root: Path) -> pd.DataFrame:
    "camelyon17_v1.0/: metadata.csv (index, patient, node, x_coord, y_coord, tumor, slide, center, split) + patches; 20 rows."
    d = root / "camelyon17_v1.0"
    recs = []
    for i in range(20):
        center = i % 5; split = 1 if (center not in (1, 2) and i >= 15) else 0        # WILDS: id_val is 1 in the file
        recs.append({"patient": f"{center:03d}", "node": i % 2, "x_coord": 10 * i, "y_coord": 5 * i, "tumor": (i // 5) % 2,
                     "slide": center * 10 + i % 2, "center": center, "split": split})
    df = pd.DataFrame(recs)
    for i, r in df.iterrows():
        p, n = r.patient, r.node
        img(d / f"patches/patient_{p}_node_{n}/patch_patient_{p}_node_{n}_x_{r.x_coord}_y_{r.y_coord}.png", 3 * i)
    df.to_csv(d / "metadata.csv"); (d / "RELEASE_v1.0.txt").write_text("v1.0")
    return df


def iwildcam(root: Path) -> pd.DataFrame:
    "iwildcam_v2.0/: metadata.csv (split, location_remapped, sequence_remapped, datetime, y, filename), categories.csv, train/."
    d = root / "iwildcam_v2.0"
    splits = ["train"] * 6 + ["id_val"] * 2 + ["id_test"] * 2 + ["val"] * 2 + ["test"] * 3
    locs = [0, 0, 1, 1, 2, 2, 0, 1, 2, 1, 3, 3, 4, 4, 4]
    df = pd.DataFrame({"split": splits, "location_remapped": locs, "sequence_remapped": range(15),
                       "datetime": [f"2013-0{1 + k % 9}-01 10:00:0{k % 10}.000" for k in range(15)],
                       "y": [k % 3 for k in range(15)], "filename": [f"{k:04x}.jpg" for k in range(15)]})
    for k, f in enumerate(df.filename): img(d / "train" / f, 7 * k)
    df.to_csv(d / "metadata.csv", index=False); (d / "RELEASE_v2.0.txt").write_text("v2.0")
    pd.DataFrame({"y": [0, 1, 2], "category_id": [0, 7, 9], "name": ["empty", "tayassu pecari", "meleagris ocellata"]}).to_csv(d / "categories.csv", index=False)
    return df


def fmow(root: Path) -> pd.DataFrame:
    "fmow_v1.1/: rgb_metadata.csv (split, category, country_code, timestamp), country_code_mapping.csv, images/rgb_img_<i>.png."
    from wilds.datasets.fmow_dataset import categories
    d = root / "fmow_v1.1"
    recs = [("train", "airport", "FRA", "2010-03-01T00:00:00Z"), ("train", "zoo", "USA", "2011-03-01T00:00:00Z"),
            ("train", "airport", "NGA", "2012-03-01T00:00:00Z"), ("val", "zoo", "FRA", "2012-06-01T00:00:00Z"),
            ("val", "airport", "USA", "2014-06-01T00:00:00Z"), ("test", "zoo", "NGA", "2012-07-01T00:00:00Z"),
            ("test", "airport", "FRA", "2017-01-05T00:00:00Z"), ("test", "zoo", "USA", "2016-05-01T00:00:00Z"),
            ("seq", "zoo", "USA", "2016-05-01T00:00:00Z")]
    df = pd.DataFrame(recs, columns=["split", "category", "country_code", "timestamp"])
    for i in range(len(df)): img(d / "images" / f"rgb_img_{i}.png", 20 * i)
    df.to_csv(d / "rgb_metadata.csv", index=False); (d / "RELEASE_v1.1.txt").write_text("v1.1")
    pd.DataFrame({"alpha-3": ["FRA", "USA", "NGA"], "region": ["Europe", "Americas", "Africa"]}).to_csv(d / "country_code_mapping.csv", index=False)
    assert "airport" in categories and "zoo" in categories
    return df


# ------------------------------------------------------------------------------------------------ without wilds
def test_missing_package_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wilds", None)          # `import wilds` now fails as if it were not installed
    with pytest.raises(ModuleNotFoundError, match=r"^a WILDS data set needs wilds, in the \[wilds\] extra: pip install 'oodgen\[wilds\]'"):
        get_dataset("wilds:waterbirds", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="pip install wilds"):
        _script().prepare(tmp_path, ["waterbirds"], quiet=True)


def _script():
    sys.path.insert(0, str(REPO / "data_scripts"))
    spec = importlib.util.spec_from_file_location("oodgen_wilds_script", REPO / "data_scripts" / "wilds_sets.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------------------------ with wilds
needs_wilds = pytest.mark.skipif(importlib.util.find_spec("wilds") is None,
                                 reason="the wilds package is not installed (pip install wilds)")


@needs_wilds
def test_waterbirds_domains_labels_pixels(tmp_path):
    df = waterbirds(tmp_path / "wilds")
    ds = get_dataset("wilds:waterbirds", root=tmp_path)
    assert ds.domains == ["land", "water"] and ds.classes == ["landbird", "waterbird"] and ds.name == "wilds:waterbirds"
    for d, place in (("land", 0), ("water", 1)):
        rows = df[df.place == place]
        assert len(ds[d]) == len(rows) and ds[d].targets == rows.y.tolist()
        x, y = ds[d][2]
        assert y == rows.y.iloc[2] and round(float(x[0, 0, 0]) * 255) == 10 * rows.index[2]
    g = get_dataset("wilds:waterbirds:group", root=tmp_path)
    assert g.domains == ["landbird_on_land", "landbird_on_water", "waterbird_on_land", "waterbird_on_water"]
    assert [len(x) for x in g.datasets] == [3, 3, 3, 3] and g["waterbird_on_land"].targets == [1, 1, 1]
    assert dataset_domains("wilds:waterbirds", tmp_path) == ["land", "water"]
    sp = split_domains(ds, ["water"], holdout=0.5)       # leave-one-domain-out as with any DomainBed set
    assert sp.train_domains == ["land"] and len(sp.ins["land"]) == 3 and len(sp.outs["land"]) == 3


@needs_wilds
def test_waterbirds_official_splits(tmp_path):
    df = waterbirds(tmp_path / "wilds")
    ds = get_dataset("wilds:waterbirds:official", root=tmp_path, image_size=4)
    assert ds.domains == ["land", "water", "test"]
    sp = split_domains(ds, ["test"])
    assert sp.train_domains == ["land", "water"] and sp.test_domains == ["test"]
    for d, place in (("land", 0), ("water", 1)):           # in = the official train rows, out = the official val rows
        assert dataset_targets(sp.ins[d]) == df[(df.place == place) & (df.split == 0)].y.tolist()
        assert dataset_targets(sp.outs[d]) == df[(df.place == place) & (df.split == 1)].y.tolist()
    assert dataset_targets(sp.ins["test"]) == df[df.split == 2].y.tolist() and sp.outs["test"].indices == sp.ins["test"].indices
    assert sp.ins["test"][0][0].shape == (3, 4, 4)
    with pytest.raises(ValueError, match=r"holds out only its official evaluation splits \(test\), not \['land'\].*wilds:waterbirds for"):
        split_domains(ds, ["land"])


@needs_wilds
def test_camelyon17_hospitals_and_official_splits(tmp_path):
    df = camelyon17(tmp_path / "wilds")
    ds = get_dataset("wilds:camelyon17", root=tmp_path)
    assert ds.domains == [f"hospital_{c}" for c in range(5)] and ds.classes == ["normal", "tumor"]
    assert [len(x) for x in ds.datasets] == [4] * 5 and ds["hospital_3"].targets == df[df.center == 3].tumor.tolist()
    x, _ = ds["hospital_2"][1]                               # the second patch of hospital 2: row 7
    assert round(float(x[1, 3, 3]) * 255) == 21
    off = get_dataset("wilds:camelyon17:official", root=tmp_path)
    # WILDS: hospital 1 is the OOD val split, hospital 2 the test split; id_val rows of 0, 3, 4 are the outs
    assert off.domains == ["hospital_0", "hospital_3", "hospital_4", "val", "test"]
    sp = split_domains(off, ["val", "test"])
    assert {d: (len(sp.ins[d]), len(sp.outs[d])) for d in sp.domains} == {
        "hospital_0": (3, 1), "hospital_3": (3, 1), "hospital_4": (3, 1), "val": (4, 4), "test": (4, 4)}
    assert dataset_targets(sp.ins["test"]) == df[df.center == 2].tumor.tolist()


@needs_wilds
def test_iwildcam_locations_and_species(tmp_path):
    df = iwildcam(tmp_path / "wilds")
    ds = get_dataset("wilds:iwildcam", root=tmp_path)
    assert ds.domains == [f"location_{k}" for k in range(5)] and ds.classes == ["empty", "tayassu pecari", "meleagris ocellata"]
    assert ds["location_4"].targets == df[df.location_remapped == 4].y.tolist()
    assert round(float(ds["location_3"][1][0][2, 0, 0]) * 255) == 7 * 11
    off = get_dataset("wilds:iwildcam:official", root=tmp_path)
    assert off.domains == ["location_0", "location_1", "location_2", "val", "test", "id_test"]
    sp = split_domains(off, ["test"])
    assert sp.domains == ["location_0", "location_1", "location_2", "test"]       # the OOD val split is not trained on
    assert [len(sp.ins[d]) for d in sp.train_domains] == [2, 2, 2] and [len(sp.outs[d]) for d in sp.train_domains] == [1, 1, 0]
    assert len(sp.ins["test"]) == 3


@needs_wilds
def test_fmow_regions(tmp_path):
    from wilds.datasets.fmow_dataset import categories
    fmow(tmp_path / "wilds")
    ds = get_dataset("wilds:fmow", root=tmp_path)
    assert sorted(ds.domains) == ["Africa", "Americas", "Europe"] and ds.classes == list(categories)
    assert sum(len(x) for x in ds.datasets) == 8                                   # the `seq` row is left out, as in WILDS
    assert ds["Europe"].targets == [categories.index(c) for c in ("airport", "zoo", "airport")]
    off = get_dataset("wilds:fmow:official", root=tmp_path)
    sp = split_domains(off, ["test"])      # WILDS: test = test rows from 2016 on; val = val rows of 2013-2015
    assert len(sp.ins["test"]) == 2 and "val" in off.domains and len(off["val"]) == 1
    assert sum(len(sp.ins[d]) for d in sp.train_domains) == 3


@needs_wilds
def test_missing_copy_names_the_script(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"WILDS camelyon17 is not in .*data_scripts/wilds_sets.py camelyon17 --root"):
        get_dataset("wilds:camelyon17", root=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'wilds:camelyon'"):
        get_dataset("wilds:camelyon", root=tmp_path)


@needs_wilds
def test_download_script_uses_wilds_own_download(tmp_path):
    src = tmp_path / "src"; waterbirds(src)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t: t.add(src / "waterbirds_v1.0", arcname=".")
    (tmp_path / "serve").mkdir(); (tmp_path / "serve" / "blob").write_bytes(buf.getvalue())
    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(type("H", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
                                                        directory=str(tmp_path / "serve")))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        mod = _script()
        out = mod.prepare(tmp_path / "data", ["waterbirds"], url=f"http://127.0.0.1:{srv.server_address[1]}/blob", quiet=True)
    finally: srv.shutdown(); srv.server_close()
    assert out == [tmp_path / "data" / "wilds" / "waterbirds_v1.0"] and (out[0] / ".oodgen_done").exists()
    ds = get_dataset("wilds:waterbirds", root=tmp_path / "data")
    assert [len(x) for x in ds.datasets] == [6, 6]
    from wilds.datasets.waterbirds_dataset import WaterbirdsDataset
    assert "codalab" in WaterbirdsDataset._versions_dict["1.0"]["download_url"]   # the mirror did not stick
    assert mod.prepare(tmp_path / "data", ["waterbirds"], quiet=True) == out      # a second run: nothing to do

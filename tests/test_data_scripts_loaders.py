"""The loader data scripts of issue 26 (NICO / NICO++, the ImageNet shift suite) against tiny archives in the released
layouts, served by the local HTTP server of test_data_scripts.py or passed as local files."""
import json, subprocess, sys

import pytest

from test_data_scripts import C, SCRIPTS, make_tar, make_zip, md5, png, script, server, sha  # noqa: F401 (fixture)


# ------------------------------------------------------------------------------------------------ NICO / NICO++
def test_nico_pp_track1_layout(server, tmp_path):
    files = {f"track_1/public_dg_0416/train/{d}/{c}/{i}.jpg": png(i) for d in ("autumn", "dim", "grass", "outdoor", "rock", "water")
             for c in ("bear", "car", "dog") for i in range(2)}
    files |= {"track_1/dg_label_id_mapping.json": b'{"bear": 0, "car": 1, "dog": 2}',
              "track_1/public_dg_0416/public_test_flat/x.jpg": png(9)}          # unlabelled test images: left out
    data = make_zip(files)
    nico = script("nico")
    with pytest.raises(FileNotFoundError, match="nicochallenge.com/dataset.*--archive"):
        nico.prepare(tmp_path, "nico_pp", quiet=True)
    out = nico.prepare(tmp_path, "nico_pp", url=server.serve("/nico_pp.zip", data), sha256=sha(data), quiet=True)
    assert out == tmp_path / "NICO_pp" and json.loads((out / C.DONE).read_text())["summary"] == {d: 6 for d in nico.NICO_PP_DOMAINS}
    assert (out / "rock" / "car" / "1.jpg").read_bytes() == png(1)
    from oodgen.data.domains import get_dataset
    ds = get_dataset("nico_pp", root=tmp_path)
    assert ds.domains == list(nico.NICO_PP_DOMAINS) and ds.classes == ["bear", "car", "dog"] and len(ds["dim"]) == 6
    assert nico.prepare(tmp_path, "nico_pp", quiet=True) == out        # done: no archive needed a second time


def test_nico_class_context_layout_rearranged(tmp_path):
    ctx = {"bear": ["on snow", "in water"], "dog": ["on grass", "in water"]}
    files = {f"NICO/Animal/{c}/{x}/{i}.jpg": png(i) for c, xs in ctx.items() for x in xs for i in range(2)}
    files |= {"NICO/Vehicle/car/on road/0.jpg": png(5)}
    arc = tmp_path / "NICO.zip"; arc.write_bytes(make_zip(files))
    out = script("nico").prepare(tmp_path / "data", "nico_animal", archive=arc, quiet=True)
    got = sorted(str(p.relative_to(out)) for p in out.rglob("*.jpg"))
    assert got == ["in water/bear/0.jpg", "in water/bear/1.jpg", "in water/dog/0.jpg", "in water/dog/1.jpg",
                   "on grass/dog/0.jpg", "on grass/dog/1.jpg", "on snow/bear/0.jpg", "on snow/bear/1.jpg"]
    from oodgen.data.domains import get_dataset, MissingClassWarning
    with pytest.warns(MissingClassWarning, match="'on grass' has no images of class\\(es\\) 'bear'"):
        ds = get_dataset("nico_animal", root=tmp_path / "data")
    assert ds.domains == ["in water", "on grass", "on snow"] and ds.classes == ["bear", "dog"]
    out = script("nico").prepare(tmp_path / "data", "nico_vehicle", archive=arc, quiet=True)
    assert (out / "on road" / "car" / "0.jpg").read_bytes() == png(5) and arc.exists()


# ------------------------------------------------------------------------------------------------ ImageNet shift suite
IMG = png(3, size=4)          # one tiny image reused: the archives hold 200 to 1,000 class folders


def class_archive(prefix, folders, kind="tar", per_class=1):
    files = {f"{prefix}/{f}/{i}.jpg": IMG for f in folders for i in range(per_class)}
    return make_zip(files) if kind == "zip" else make_tar(files, mode="w:gz" if kind == "tgz" else "w")


@pytest.mark.parametrize("name,prefix,which,kind", [
    ("imagenet_r", "imagenet-r", "imagenet_r", "tar"), ("imagenet_a", "imagenet-a", "imagenet_a", "tar"),
    ("imagenet_sketch", "sketch", "imagenet", "zip"), ("imagenet_v2", "imagenetv2-matched-frequency-format-val", None, "tgz")])
def test_imagenet_class_folder_sets(server, tmp_path, name, prefix, which, kind):
    I = script("_imagenet")
    folders = [str(k) for k in range(1000)] if which is None else I.wnids(which)
    data = class_archive(prefix, folders, kind)
    mod = script(name)
    url = server.serve(f"/{name}.{kind}", data)
    with pytest.raises(C.ChecksumError):                       # the pinned MD5 (R, A) or a wrong pin fails
        mod.prepare(tmp_path, url=url, sha256="0" * 64, quiet=True)
    out = mod.prepare(tmp_path, url=url, md5=md5(data), quiet=True)
    assert out == tmp_path / "imagenet_shift" / name
    assert json.loads((out / C.DONE).read_text())["summary"] == {"classes": len(folders), "images": len(folders)}
    from oodgen.data.domains import get_dataset, imagenet_wnids
    ds = get_dataset(name, root=tmp_path)
    v = ds["test"]; k = 7
    assert len(v) == len(folders) and v.targets[k] == k and v.samples[k][0].parent.name == folders[k]
    want = k if which is None else imagenet_wnids().index(folders[k])    # its ImageNet-1k index, by hand
    assert v.imagenet_indices[k] == [want]
    short = class_archive(prefix, folders[:-1], kind)                   # one class folder short: refused
    with pytest.raises(C.LayoutError, match="1 class folders missing"):
        mod.prepare(tmp_path / "short", url=server.serve(f"/short.{kind}", short), md5=md5(short), quiet=True)


def test_imagenet_shift_domains(tmp_path):
    from oodgen.data.domains import get_dataset, imagenet_wnids, dataset_domains
    sh = tmp_path / "imagenet_shift"
    for name, ws in (("imagenet_r", imagenet_wnids("imagenet_r")[:3]), ("imagenet_sketch", imagenet_wnids()[:2])):
        for w in ws: (sh / name / w).mkdir(parents=True); (sh / name / w / "0.jpg").write_bytes(IMG)
    ds = get_dataset("imagenet_shift", root=tmp_path)
    assert ds.domains == ["imagenet_sketch", "imagenet_r"] and len(ds.classes) == 1000
    assert ds["imagenet_r"].targets == [imagenet_wnids().index(w) for w in imagenet_wnids("imagenet_r")[:3]] == [1, 2, 4]
    assert dataset_domains("imagenet_shift", tmp_path) == ds.domains and dataset_domains("imagenet_a", tmp_path) == ["test"]
    with pytest.raises(FileNotFoundError, match="data_scripts/imagenet_a.py --root"):
        get_dataset("imagenet_a", root=tmp_path)


def objectnet_copy(base):
    "An unzipped objectnet-1.0 in miniature: 3 classes, two of them ImageNet classes (one mapped to two)."
    m = base / "mappings"; m.mkdir(parents=True)
    (m / "folder_to_objectnet_label.json").write_text(json.dumps({"alarm_clock": "Alarm clock", "chair": "Chair", "vase_x": "Vase X"}))
    (m / "objectnet_to_imagenet_1k.json").write_text(json.dumps({"Alarm clock": "analog clock; digital clock", "Chair": "folding chair"}))
    (m / "imagenet_to_label_2012_v2").write_text("digital clock\nfolding chair\nanalog clock\n")   # 2012 ids 0, 1, 2
    (m / "pytorch_to_imagenet_2012_id.json").write_text(json.dumps({"530": 0, "559": 1, "409": 2}))
    for f, n in (("alarm_clock", 2), ("chair", 1), ("vase_x", 1)):
        (base / "images" / f).mkdir(parents=True)
        for i in range(n): (base / "images" / f / f"{i}.png").write_bytes(png(i, size=10))
    return base


def test_objectnet_mapping_and_loader(tmp_path):
    on = script("objectnet")
    with pytest.raises(FileNotFoundError, match="testing only.*--folder"):
        on.prepare(tmp_path / "data", None, quiet=True)
    src = objectnet_copy(tmp_path / "objectnet-1.0")
    assert on.imagenet_indices(src / "mappings") == {"alarm_clock": [409, 530], "chair": [559]}   # by hand
    out = on.prepare(tmp_path / "data", src, quiet=True)
    assert (out / "images").is_symlink() and json.loads((out / C.DONE).read_text())["images"] == 3
    from oodgen.data.domains import get_dataset
    import torch
    v = get_dataset("objectnet", root=tmp_path / "data")["test"]
    assert v.classes == ["Alarm clock", "Chair"] and v.targets == [0, 0, 1] and v[0][0].shape == (3, 6, 6)   # 2-pixel frame cut
    logits = torch.zeros(1, 1000); logits[0, 530] = 5; logits[0, 559] = 3
    assert v.subset_logits(logits).tolist() == [[5.0, 3.0]]


def fake_imagenet(base, extra="n99999999"):
    I = script("_imagenet")
    for split, n in (("train", 2), ("val", 1)):
        for w in I.wnids("imagenet_100") + [extra]:
            d = base / split / w; d.mkdir(parents=True)
            for i in range(n): (d / f"{w}_{i}.JPEG").write_bytes(IMG)
    return base


def test_imagenet_100_links_cmc_classes(tmp_path):
    src = fake_imagenet(tmp_path / "imagenet")
    out = script("imagenet_100").prepare(tmp_path / "data", src, quiet=True)
    info = json.loads((out / C.DONE).read_text())
    assert info["summary"] == {"train": {"classes": 100, "images": 200}, "val": {"classes": 100, "images": 100}}
    assert (out / "train" / "n02869837").is_symlink() and not (out / "train" / "n99999999").exists()
    from oodgen.data.domains import get_dataset, imagenet_wnids
    ds = get_dataset("imagenet_100", root=tmp_path / "data")
    assert ds.domains == ["train", "val"] and len(ds["train"]) == 200 and ds.wnids == sorted(imagenet_wnids("imagenet_100"))
    assert ds.imagenet_indices[0] == [imagenet_wnids().index(ds.wnids[0])]
    (src / "val" / "n02869837").rename(src / "val" / "gone")
    with pytest.raises(C.LayoutError, match="lacks 1 of the 100"):
        script("imagenet_100").prepare(tmp_path / "other", src, quiet=True)


def test_imagenet_100_c_from_imagenet_c_tars(server, tmp_path):
    I, mod = script("_imagenet"), script("imagenet_100_c")
    keep = I.wnids("imagenet_100")
    corruptions = mod.FAMILIES["noise"][0]
    files = {f"{c}/{s}/{w}/ILSVRC2012_val_{k:08d}.JPEG": IMG for c in corruptions for s in "12345"
             for k, w in enumerate(keep + ["n01440764"])}
    data = make_tar(files)
    server.serve("/zen/noise.tar", data)
    with pytest.raises(C.ChecksumError, match="MD5"):                 # Zenodo's MD5 of the real noise.tar
        mod.prepare(tmp_path, ["noise"], url=server.url + "/zen", quiet=True)
    out = mod.prepare(tmp_path, ["noise"], url=server.url + "/zen", md5s={"noise": md5(data)}, quiet=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(corruptions)
    assert not (out / "shot_noise" / "3" / "n01440764").exists() and (out / "shot_noise" / "3" / keep[5]).is_dir()
    assert json.loads((out / "impulse_noise" / C.DONE).read_text())["summary"]["5"] == {"classes": 100, "images": 100}
    from oodgen.data.domains import get_dataset
    ds = get_dataset("imagenet_100_c", root=tmp_path)
    assert len(ds.domains) == 15 and ds.domains[0] == "gaussian_noise-1" and len(ds["shot_noise-2"]) == 100
    assert len(ds.classes) == 100 and ds.wnids == sorted(I.wnids("imagenet_100"))
    n = len(server.log)
    mod.prepare(tmp_path, ["noise"], url=server.url + "/zen", quiet=True)   # done: no download
    assert len(server.log) == n

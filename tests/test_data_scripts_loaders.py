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

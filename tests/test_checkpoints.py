"""Checkpoints know what they are (issue 28): every checkpoint a stage writes carries `meta` (stage, architecture,
classes, data set, image size), and each stage checks a user-given checkpoint against its run before any work."""
import warnings
import pytest, torch
import oodgen.benchmark  # noqa: F401  (registers every algorithm)
from oodgen.core import (ALGORITHM_STAGES, TEACHER_STAGES, check_checkpoint, check_checkpoint_file, load_checkpoint,
                         save_checkpoint)
from oodgen.train.loop import build_algorithm, load_algorithm, save_algorithm

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

def erm(tmp_path, classes, name="erm.pt", backbone="small_cnn", stage="benchmark", dataset="tri"):
    alg = build_algorithm("ERM", len(classes), {"backbone": backbone}, seed=0)
    return save_algorithm(alg, tmp_path/name, classes, meta={"stage": stage, "data": {"dataset": dataset}})

def tiny_teacher(path):
    from oodgen.models.cross_attention import ImageTextMatcher, save_teacher
    from oodgen.models.encoders import create_image_encoder, create_text_encoder
    torch.manual_seed(0)
    t = ImageTextMatcher(create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=32),
                         create_text_encoder("bigru", pretrained=False, trainable=False, hidden=16, emb_dim=32),
                         embed_dim=16, heads=2)
    return save_teacher(t, path, dataset="digits_shift", classes=DIGITS, train_domains=["gray", "colored"])

WANT = {"stage": ALGORITHM_STAGES, "classes": DIGITS, "data": {"dataset": "digits_shift"},
        "architecture": {"algorithm": "ERM", "backbone": "small_cnn"}}

def test_saved_checkpoints_carry_meta(tmp_path):
    m = load_checkpoint(erm(tmp_path, DIGITS, dataset="digits_shift"))["meta"]
    assert m["stage"] == "benchmark" and m["classes"] == DIGITS and m["data"]["dataset"] == "digits_shift"
    assert m["architecture"] == {"algorithm": "ERM", "backbone": "small_cnn"}
    t = load_checkpoint(tiny_teacher(tmp_path/"t.pt"))["meta"]
    assert t["stage"] == "contrastive" and t["architecture"] == {"image_encoder": "resnet18", "text_encoder": "bigru"}
    assert t["classes"] == DIGITS and t["data"] == {"dataset": "digits_shift", "domains": ["gray", "colored"]}

def test_good_checkpoint_is_accepted(tmp_path):
    p = erm(tmp_path, DIGITS, dataset="digits_shift")
    with warnings.catch_warnings(): warnings.simplefilter("error"); alg = load_algorithm(p, expected=WANT, what="erm_checkpoint")
    assert alg.classes == DIGITS
    assert check_checkpoint_file(tiny_teacher(tmp_path/"t.pt"), {"stage": TEACHER_STAGES}, "teacher_checkpoint")["stage"] == "contrastive"

def test_checkpoint_of_other_classes_is_refused(tmp_path):
    "The issue's case: `probes -p erm_checkpoint` trained on a 3-class data set, probed on 10-class digits."
    p = erm(tmp_path, ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"erm_checkpoint .* was trained on 3 classes \[a, b, c\] \(on tri\); this run's data "
                                         r"set has 10 classes \[zero, .*nine\]: pass a checkpoint trained on digits_shift"):
        load_algorithm(p, expected=WANT, what=f"erm_checkpoint {p}")
    q = erm(tmp_path, DIGITS[::-1], name="rev.pt")           # the same classes in another order: as wrong
    with pytest.raises(ValueError, match="same classes in another order"): check_checkpoint_file(q, WANT, "erm_checkpoint")

def test_checkpoint_of_other_stage_is_refused(tmp_path):
    t = tiny_teacher(tmp_path/"t.pt")                      # a Stage 1 teacher given where a classifier is wanted
    with pytest.raises(ValueError, match=r"erm_checkpoint .*t.pt was written by stage 'contrastive'; this parameter takes a "
                                         r"checkpoint of stage 'benchmark' / .*pass a checkpoint trained on digits_shift"):
        load_algorithm(t, expected=WANT, what=f"erm_checkpoint {t}")
    p = erm(tmp_path, DIGITS)                              # a classifier given where a Stage 1 teacher is wanted
    with pytest.raises(ValueError, match="written by stage 'benchmark'.*stage 'contrastive'"):
        check_checkpoint_file(p, {"stage": TEACHER_STAGES}, "teacher_checkpoint")
    from oodgen.models.cross_attention import load_teacher
    with pytest.raises(ValueError, match="written by stage 'benchmark'"): load_teacher(p, expected={})
    from oodgen.train.distill import Stage1Teacher           # distill / teacher_head / zeroshot `teacher`
    with pytest.raises(ValueError, match=r"teacher .*erm.pt was written by stage 'benchmark'"): Stage1Teacher(p)

def test_checkpoint_of_other_architecture_is_refused(tmp_path):
    p = erm(tmp_path, DIGITS, backbone="resnet18", dataset="digits_shift")
    with pytest.raises(ValueError, match=r"erm_checkpoint .* is a backbone 'resnet18' checkpoint; this run uses backbone "
                                         r"'small_cnn': pass a checkpoint of that architecture, or set backbone"):
        check_checkpoint_file(p, WANT, "erm_checkpoint")
    import oodgen.train.distill  # noqa: F401  (registers RISE)
    s = save_algorithm(build_algorithm("RISE", 10, {"embed_dim": 16}, seed=0), tmp_path/"rise.pt", DIGITS)
    with pytest.raises(ValueError, match="is a algorithm 'RISE' checkpoint; this run uses algorithm 'ERM'"):
        check_checkpoint_file(s, WANT, "erm_checkpoint")       # the student passed as the ERM model

def test_old_checkpoint_without_meta_loads_with_a_warning(tmp_path):
    p = erm(tmp_path, ["a", "b", "c"]); ck = load_checkpoint(p); ck.pop("meta"); save_checkpoint(ck, p)
    with pytest.warns(UserWarning, match="carries no meta"): alg = load_algorithm(p, expected=WANT, what="erm_checkpoint")
    assert alg.classes == ["a", "b", "c"]
    with pytest.warns(UserWarning, match="carries no meta"): assert check_checkpoint(None, WANT, "x") is None

def test_probes_stage_refuses_before_training(tmp_path, monkeypatch):
    "The issue's case end to end: the probes stage stops at its first model cell, before training anything."
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    from oodgen.runs import run_stage
    p = erm(tmp_path, ["a", "b", "c"])
    with pytest.raises(Exception, match=r"trained on 3 classes \[a, b, c\].*10 classes"):
        run_stage("probes", dict(device="cpu", steps=2, erm_checkpoint=str(p), train_student=False, imagenet_backbone=""),
                  name="p", out=tmp_path, progress=False)
    assert not (tmp_path/"p"/"checkpoints").exists() or not list((tmp_path/"p"/"checkpoints").iterdir())

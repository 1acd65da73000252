"""OT distillation with a tiny teacher and student: the loss and its gradient equal POT's,
training lowers the loss, a resumed run equals an uninterrupted one bit for bit, the saved
student loads everywhere with the same embeddings, and pairs itself with its teacher."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from clirlens.core.distill.bitext import Bitext, Pair
from clirlens.core.distill.loss import ot_loss
from clirlens.core.distill.run import distill, init_head
from clirlens.core.distill.save import TRAINING
from clirlens.core.distill.student import Student
from clirlens.core.distill.train import CHECKPOINT, DistillConfig, train
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever
from clirlens.core.types import Passage

from ..tiny_models import make_tiny_bert

SOURCES = ["the cat sat", "a dog ran far", "what is the capital of France ?", "hello world",
           "the dog sat on the mat", "Paris is in France", "cats ran", "the mat"]  # fmt: skip
TARGETS = ["cat sat on the mat", "the dog ran", "Paris is the capital of france .",
           "Hello World", "a dog on a mat", "paris in france", "the cats", "a mat ."]  # fmt: skip


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return make_tiny_bert(root / "teacher", seed=1), make_tiny_bert(root / "student", seed=2)


@pytest.fixture()
def bitext():
    pairs = tuple(Pair(str(i), s, t) for i, (s, t) in enumerate(zip(SOURCES, TARGETS, strict=True)))
    return Bitext(pairs, "tiny")


def test_the_batched_loss_and_its_gradient_equal_pots_plan_with_autograd():
    import ot

    gen = torch.Generator().manual_seed(0)
    lengths_s, lengths_t = (3, 5), (4, 2)
    s = torch.randn((2, 5, 8), generator=gen, dtype=torch.float64, requires_grad=True)
    t = torch.randn((2, 4, 8), generator=gen, dtype=torch.float64)
    sm = torch.tensor([[True] * 3 + [False] * 2, [True] * 5])
    tm = torch.tensor([[True] * 4, [True] * 2 + [False] * 2])
    loss, per_pair, bad = ot_loss(s, sm, t, tm, eps=0.1, tol=1e-12, max_iter=10_000)
    loss.backward()
    ours = s.grad.clone()
    s.grad = None
    ref = []
    for k in range(2):
        x = torch.nn.functional.normalize(s[k, : lengths_s[k]], dim=-1)
        y = torch.nn.functional.normalize(t[k, : lengths_t[k]], dim=-1)
        cost = 1.0 - x @ y.T
        a, b = np.full(lengths_s[k], 1 / lengths_s[k]), np.full(lengths_t[k], 1 / lengths_t[k])
        plan = ot.sinkhorn(a, b, cost.detach().numpy(), 0.1, stopThr=1e-12, numItermax=10_000)
        ref.append((torch.from_numpy(plan) * cost).sum())
    (sum(ref) / 2).backward()
    assert bad == 0
    np.testing.assert_allclose(per_pair, [float(r) for r in ref], atol=1e-10)
    np.testing.assert_allclose(ours.numpy(), s.grad.numpy(), atol=1e-9)
    assert torch.all(ours[0, 3:] == 0)  # padding gets no gradient


def _run(models, bitext, out, head=False, **kw):
    teacher, student = models
    cfg = DistillConfig(steps=6, batch_size=4, lr=5e-3, warmup=0, checkpoint_every=2, eps=0.1, **kw)
    learner = Student(parse_model_arg(str(student)))
    retriever = make_retriever(parse_model_arg(str(teacher)), cache=Cache(out / "cache"))
    if head:
        run(init_head(learner, retriever, bitext))
    return learner, retriever, cfg


@pytest.mark.parametrize("head", [False, True], ids=["plain", "head"])
def test_training_lowers_the_loss_and_resuming_equals_an_uninterrupted_run(
    models, bitext, tmp_path, head
):
    learner, teacher, cfg = _run(models, bitext, tmp_path / "a", head)
    history = run(train(learner, teacher, bitext, cfg, tmp_path / "a"))
    assert len(history.loss) == 6
    assert np.mean(history.ot[-2:]) < np.mean(history.ot[:2])  # the OT loss falls
    whole = {k: v.detach().clone() for k, v in learner.named_trainable().items()}
    assert ("head.weight" in whole) == head

    # the same run stopped after 3 steps (a Cancel: the job is closed at a yield), resumed
    learner2, teacher2, _ = _run(models, bitext, tmp_path / "b", head)
    job = train(learner2, teacher2, bitext, cfg, tmp_path / "b")
    for p in job:
        if getattr(p, "step", 0) == 3:
            break
    job.close()
    assert (tmp_path / "b" / CHECKPOINT).is_file()
    learner3, teacher3, _ = _run(models, bitext, tmp_path / "b", head)
    resumed = run(train(learner3, teacher3, bitext, cfg, tmp_path / "b", resume=True))
    assert resumed.loss == history.loss  # the same losses, step for step
    for k, v in learner3.named_trainable().items():
        assert torch.equal(v, whole[k]), k
    # the embedding matrix stayed frozen
    emb = learner3.model.get_input_embeddings().weight
    fresh = Student(parse_model_arg(str(models[1]))).model.get_input_embeddings().weight
    assert torch.equal(emb, fresh)


@pytest.mark.parametrize("head", [False, True], ids=["plain", "head"])
def test_the_saved_student_loads_everywhere_and_pairs_with_its_teacher(
    models, bitext, tmp_path, head
):
    teacher, student = models
    out = tmp_path / "student"
    cfg = DistillConfig(steps=2, batch_size=4, lr=5e-3, warmup=0, eps=0.1, head=head)
    result = run(
        distill(str(teacher), str(student), "xx", bitext, out, cfg, cache=Cache(tmp_path / "c"))
    )
    assert result.out == out and (out / "model.safetensors").is_file()
    assert (out / TRAINING / CHECKPOINT).is_file()
    card = json.loads((out / "clirlens_student.json").read_text(encoding="utf-8"))
    assert card["teacher"] == str(teacher) and card["steps"] == 2
    assert card["bitext"]["hash"] == bitext.hash and "OPTICAL" in (out / "README.md").read_text()

    texts = ["the cat sat on the mat", "what is the capital of France ?"]
    ours = Student(parse_model_arg(str(out))).embed(texts)
    via_encoder = run(Encoder(parse_model_arg(str(out)), device="cpu").encode(texts, "query"))
    np.testing.assert_allclose(via_encoder, ours, atol=1e-5)
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    st = SentenceTransformer(str(out), device="cpu").encode(texts, prompt_name="query")
    np.testing.assert_allclose(st, ours, atol=1e-5)
    assert AutoModel.from_pretrained(out).config.hidden_size == ours.shape[1]
    assert (out / "3_Dense" / "model.safetensors").is_file() == head
    # the last layer's token states as the align view shows them: the student's own
    (states,) = run(Encoder(parse_model_arg(str(out)), device="cpu").token_states(texts[:1]))
    np.testing.assert_allclose(
        states.content().vectors, Student(parse_model_arg(str(out))).states(texts[:1])[0],
        atol=1e-5,
    )  # fmt: skip
    if head:  # the head trained: not the ridge start any more, and cached apart from it
        start = Student(parse_model_arg(str(student)))
        retriever0 = make_retriever(parse_model_arg(str(teacher)), cache=Cache(tmp_path / "d"))
        run(init_head(start, retriever0, bitext))
        assert not np.allclose(start.embed(texts), ours, atol=1e-4)

    # clirlens pairs the student (queries) with its teacher (passages) from the card
    spec = parse_model_arg(str(out))
    assert spec.passages is not None and spec.passages.source == str(teacher)
    retriever = make_retriever(spec, cache=Cache(tmp_path / "c"))
    corpus = [Passage("p1", "the cat sat on the mat", "en"), Passage("p2", "Paris", "en")]
    run(retriever.prepare(corpus))
    teacher_vecs = run(Encoder(parse_model_arg(str(teacher)), device="cpu").encode_passages(corpus))
    np.testing.assert_allclose(retriever.passage_vectors, teacher_vecs, atol=1e-6)
    assert retriever.passage_encoder.name == "teacher" and retriever.encoder.name == "student"

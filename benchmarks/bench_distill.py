"""OT distillation (``clirlens distill``): speed of the loss and whole steps, and what the
levers do to held-out retrieval.

(a) The OT part of a training step: the batched loss (plans by the padded Sinkhorn, gradient
    through C) against a loop of one POT ``ot.sinkhorn`` call per pair with autograd through
    each C, on the same mini-batches of real token states; ratio and largest difference.
(b) Whole training steps per second, fp32 and bf16 (bf16 is emulated without AVX512-BF16 or
    AMX, so it is slower there: the script says which this CPU is).
(c) With ``--sweep``: held-out th→en R@1 / RR@10 / OT cost before and after for each
    variant of a setting, beside the baselines (teacher alone, linear map, teacher on
    English). Setting A: teacher all-MiniLM-L6-v2 (English-only), student from
    multilingual-e5-small; setting B: teacher = student initialisation = multilingual-e5-small.
    Training on XQuAD articles 0-31, held out 32-47 against all 240 English paragraphs.

Run: python benchmarks/bench_distill.py [--batches 6] [--sweep A|B] [--steps 150] [--lang th]
     [--variants 'OT only,head + OT only'] [--eval-every 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import test_model, xquad_dir

from clirlens.core.data.xquad import load_xquad
from clirlens.core.distill.bitext import parse_articles, xquad_bitext
from clirlens.core.distill.heldout import xquad_heldout
from clirlens.core.distill.loss import TRAIN_TOL, ot_loss
from clirlens.core.distill.run import describe, distill
from clirlens.core.distill.student import Student
from clirlens.core.distill.train import DistillConfig, _pad, batch_indices
from clirlens.core.models.packed import bf16_is_native
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever

VARIANTS = {
    "OT only": {},
    "OT + sentence + English pairs": {"sentence_weight": 1.0, "english": True},
    "head + OT only": {"head": True},
    "head + OT + sentence + English pairs": {"head": True, "sentence_weight": 1.0, "english": True},
    "head + OT + sentence + English pairs + paragraphs": {
        "head": True, "sentence_weight": 1.0, "english": True, "paragraphs": True,
    },
    "head + OT (norm masses) + sentence + English pairs": {
        "head": True, "sentence_weight": 1.0, "english": True, "weights": "norm",
    },
}  # fmt: skip


def pot_loop_loss(s, sm, t, tm, eps):
    import ot
    import torch

    total = 0.0
    for k in range(s.shape[0]):
        x = torch.nn.functional.normalize(s[k][sm[k]], dim=-1)
        y = torch.nn.functional.normalize(t[k][tm[k]], dim=-1)
        cost = 1.0 - x @ y.T
        a = np.full(len(x), 1 / len(x))
        b = np.full(len(y), 1 / len(y))
        plan = ot.sinkhorn(a, b, cost.detach().double().numpy(), eps, stopThr=TRAIN_TOL)
        total = total + (torch.from_numpy(plan).to(cost.dtype) * cost).sum()
    return total / s.shape[0]


def speed(args, teacher_dir: Path, student_dir: Path, xq) -> None:
    import torch

    bitext = xquad_bitext(xq, args.lang, parse_articles("0-31"))
    teacher = make_retriever(parse_model_arg(str(teacher_dir)), cache=Cache(args.cache))
    targets = [p.target for p in bitext.pairs]
    states = [st.content().vectors for st in run(teacher.encoder.token_states(targets))]
    print(f"(a) OT part of a step, batch {args.batch_size}, {args.batches} batches, ε=0.05")
    student = Student(parse_model_arg(f"me5-small={student_dir}"))
    ours = loop = 0.0
    worst = 0.0
    for step in range(args.batches):
        idx = batch_indices(len(bitext), args.batch_size, 0, step)
        s, sm, _ = student.forward([bitext.pairs[i].source for i in idx])
        t, tm = _pad([states[i] for i in idx])
        s1 = s.detach().clone().requires_grad_(True)
        t0 = time.perf_counter()
        loss, _, _ = ot_loss(s1, sm, t, tm, eps=0.05)
        loss.backward()
        ours += time.perf_counter() - t0
        s2 = s.detach().clone().requires_grad_(True)
        t0 = time.perf_counter()
        ref = pot_loop_loss(s2, sm, t, tm, 0.05)
        ref.backward()
        loop += time.perf_counter() - t0
        worst = max(worst, float((s1.grad - s2.grad).abs().max()), abs(float(loss - ref)))
    print(
        f"    batched {1e3 * ours / args.batches:7.2f} ms/step   POT loop "
        f"{1e3 * loop / args.batches:7.2f} ms/step   ratio {loop / ours:5.1f}x   "
        f"largest difference (loss, gradient) {worst:.1e}"
    )
    print(
        f"(b) whole steps (forward, OT loss, backward, AdamW), bf16 native here: {bf16_is_native()}"
    )
    for dtype in ("fp32", "bf16"):
        learner = Student(parse_model_arg(f"me5-small={student_dir}"), dtype=dtype)
        optim = torch.optim.AdamW(learner.parameters(), lr=2e-5)
        t0 = time.perf_counter()
        for step in range(args.batches):
            idx = batch_indices(len(bitext), args.batch_size, 0, step)
            s, sm, _ = learner.forward([bitext.pairs[i].source for i in idx])
            t, tm = _pad([states[i] for i in idx])
            loss, _, _ = ot_loss(s, sm, t, tm, eps=0.05)
            optim.zero_grad()
            loss.backward()
            optim.step()
        rate = args.batches / (time.perf_counter() - t0)
        print(f"    {dtype}: {rate:.2f} steps/s ({1 / rate:.2f} s per step)")


def sweep(args, teacher: str, student: str, xq) -> None:
    train = parse_articles("0-31")
    held = xquad_heldout(xq, args.lang, train)
    print(
        f"(c) setting {args.sweep}: teacher {teacher.split('/')[-1]}, student "
        f"{student.split('/')[-1]}, {args.steps} steps, batch {args.batch_size}; {held.origin}"
    )
    for name, variant in VARIANTS.items():
        if args.variants and not any(v.strip() == name for v in args.variants.split(",")):
            continue
        opts = dict(variant)
        bitext = xquad_bitext(
            xq, args.lang, train, paragraphs=opts.pop("paragraphs", False),
            english=opts.pop("english", False),
        )  # fmt: skip
        config = DistillConfig(
            steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup=10,
            eval_every=args.eval_every,
            dtype="bf16" if bf16_is_native() else "fp32", **opts,
        )  # fmt: skip
        out = Path(tempfile.mkdtemp()) / "student"
        t0 = time.perf_counter()
        result = run(distill(teacher, student, args.lang, bitext, out, config, heldout=held,
                             cache=Cache(args.cache)))  # fmt: skip
        print(f"\n-- {name} ({len(bitext)} pairs, {time.perf_counter() - t0:.0f} s)")
        print(describe(result))
        if result.history.evaluations:
            print("    held-out curve: " + "  ".join(
                f"step {step}: R@1 {ev['R@1']:.4f} OT {ev['ot_cost']:.3f}"
                for step, ev in result.history.evaluations
            ))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--sweep", choices=("A", "B"))
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--lang", default="th")
    ap.add_argument("--variants", default="", help="comma-separated variant names (default all)")
    ap.add_argument("--eval-every", type=int, default=50, help="held-out curve every N steps")
    ap.add_argument("--cache", default=None)
    args = ap.parse_args()
    xq = load_xquad(xquad_dir(), [args.lang, "en"])
    me5, minilm = test_model("multilingual-e5-small"), test_model("all-MiniLM-L6-v2")
    if args.sweep is None:
        speed(args, minilm, me5, xq)
        return
    teacher = str(minilm) if args.sweep == "A" else f"me5-small={me5}"
    sweep(args, teacher, f"me5-small={me5}", xq)


if __name__ == "__main__":
    main()

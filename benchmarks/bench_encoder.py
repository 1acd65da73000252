"""Encoding throughput of clirlens' encoder against sentence-transformers' ``encode`` on the
same model (multilingual-e5-small), the same texts and the same batch size, in one process;
then R@1 th->en on full XQuAD in fp32 and bf16.

Prints ratios (ours / sentence-transformers) so the figure does not depend on the machine's
absolute speed, and the raw bf16/fp32 matrix-product speed-up of this CPU for reference.
clirlens runs twice: its default padding-free forward pass (core/models/packed.py) and, for
comparison, transformers' forward on padded batches (``Encoder(packed=False)``).
Run: python benchmarks/bench_encoder.py [--n 120] [--batch-size 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import test_model, xquad_dir

from clirlens.core.data.xquad import load_xquad
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def sentence_transformer(path, dtype):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import (
        Normalize,
        Pooling,
        Transformer,
    )

    t = Transformer(str(path), max_seq_length=512, model_kwargs={"dtype": dtype})
    return SentenceTransformer(
        modules=[t, Pooling(t.get_embedding_dimension(), "mean"), Normalize()], device="cpu"
    )


def matmul_speedup() -> float:
    rates = {}
    for dt in (torch.float32, torch.bfloat16):
        a, w = torch.randn(4096, 384, dtype=dt), torch.randn(1536, 384, dtype=dt)
        for _ in range(3):
            a @ w.T
        rates[dt] = 1 / best_of(lambda a=a, w=w: a @ w.T, 10)
    return rates[torch.bfloat16] / rates[torch.float32]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120, help="paragraphs to encode")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip-r1", action="store_true")
    args = ap.parse_args()
    model_dir = test_model("multilingual-e5-small")
    data = load_xquad(xquad_dir(), ["en", "th"])
    # a realistic mix: Thai and English paragraphs (long) as passages
    texts = [p.text for p in data.passages("th")[: args.n // 2]]
    texts += [p.text for p in data.passages("en")[: args.n - len(texts)]]
    prefixed = ["passage: " + t for t in texts]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{len(texts)} paragraphs, batch size {args.batch_size}"
    )
    print(f"raw bf16/fp32 matrix-product speed-up on this CPU: {matmul_speedup():.1f}x")
    rates = {}
    for label, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        encoders = {
            packed: Encoder(
                parse_model_arg(f"me5-small={model_dir}"),
                device="cpu",
                dtype=label,
                batch_size=args.batch_size,
                packed=packed,
            )
            for packed in (True, False)
        }
        for enc in encoders.values():
            run(enc.encode(texts[:4], "passage"))  # load + warm up
        st = sentence_transformer(model_dir, dt)
        st.encode(prefixed[:4], batch_size=args.batch_size)
        t_st = best_of(lambda st=st: st.encode(prefixed, batch_size=args.batch_size), args.repeats)
        t_ours = {
            packed: best_of(lambda enc=enc: run(enc.encode(texts, "passage")), args.repeats)
            for packed, enc in encoders.items()
        }
        rates[label] = (len(texts) / t_ours[True], len(texts) / t_st, len(texts) / t_ours[False])
        a = run(encoders[True].encode(texts[:8], "passage"))
        b = st.encode(prefixed[:8], batch_size=args.batch_size)
        cos = float(np.min(np.sum(a * b, axis=1)))
        print(
            f"{label}: clirlens {rates[label][0]:6.1f} passages/s (padded transformers forward "
            f"{rates[label][2]:5.1f}), sentence-transformers {rates[label][1]:6.1f} passages/s, "
            f"ratio {rates[label][0] / rates[label][1]:.2f}  (min cosine between the two: "
            f"{cos:.5f})"
        )
    print(
        f"bf16 clirlens / sentence-transformers bf16: {rates['bf16'][0] / rates['bf16'][1]:.2f}x"
        f"; clirlens bf16 / clirlens fp32: {rates['bf16'][0] / rates['fp32'][0]:.2f}x"
        f"; clirlens bf16 / sentence-transformers fp32: "
        f"{rates['bf16'][0] / rates['fp32'][1]:.2f}x"
    )
    if args.skip_r1:
        return
    from clirlens.core.evaluation.metrics import evaluate
    from clirlens.core.retrieval.retriever import DenseRetriever

    task = data.task("th", "en")
    r1 = {}
    for label in ("fp32", "bf16"):
        import tempfile

        from clirlens.core.retrieval.cache import Cache

        r = DenseRetriever(
            Encoder(
                parse_model_arg(f"me5-small={model_dir}"),
                device="cpu",
                dtype=label,
                batch_size=args.batch_size,
            ),
            cache=Cache(tempfile.mkdtemp()),
        )
        run(r.prepare(task.corpus))
        r1[label] = evaluate(run(r.search(task.queries, 10)), task.qrels, ["R@1"]).aggregate["R@1"]
    print(
        f"R@1 th->en (1190 questions, 240 paragraphs): fp32 {100 * r1['fp32']:.2f}, "
        f"bf16 {100 * r1['bf16']:.2f}, difference {100 * (r1['bf16'] - r1['fp32']):+.2f} points"
    )


if __name__ == "__main__":
    main()

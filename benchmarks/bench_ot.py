"""OT alignment speed, token states cached (the model runs before the clock starts).

(a) One heatmap: ``align_states`` for a 32-token question against a 256-token passage
    (multilingual-e5-small states; cost matrix, plan, best partners, the whole record), per
    solver. Goal: under 50 ms.
(b) Batch scoring throughput, pairs/s, on translation retrieval (N x N hi-en XQuAD question
    pairs, Sinkhorn ε = 0.05): our padded batches (``cross_costs``) against a loop of one POT
    call per pair, and against POT's own ``ot.solve_batch`` fed the same padded batches
    (numpy and torch backends); with each method's largest cost difference from the loop.
    BLAS runs single-threaded for all of them (faster for small problems; see
    ``clirlens.core.ot.scaling.blas_single_thread``).
(c) With ``--full``: the mean-cost part of ``align-score``, every parallel pair (1190) x
    languages x models, OT time apart from encoding time.

Run: python benchmarks/bench_ot.py [--n 200] [--loop-pairs 2000] [--repeats 5] [--full]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import test_model, xquad_dir

from clirlens.core.data.xquad import load_xquad
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.ot.alignment import align_states, cosine_cost
from clirlens.core.ot.batch import TokenSets, _cross_batches, cross_costs, paired_costs
from clirlens.core.ot.scaling import blas_single_thread
from clirlens.core.ot.scoring import TokenStateCache, parallel_pairs, pick_indices
from clirlens.core.ot.solvers import solve
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import TokenStates


def timed(fn, repeats: int) -> tuple[float, float]:
    """(median, min) wall time in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), min(times)


def cut(st: TokenStates, n: int) -> TokenStates:
    """The first ``n`` content tokens."""
    c = st.content()
    return TokenStates(
        c.text, c.tokens[:n], c.offsets[:n], c.special[:n], c.vectors[:n], c.model, c.layer
    )


def heatmap(enc: Encoder, data, repeats: int) -> None:
    # the source: the start of a Hindi paragraph (questions rarely reach 32 tokens)
    q = data.passages("hi")[0].text
    p = max((p.text for p in data.passages("en")[:40]), key=len)
    (qs,) = run(enc.token_states([q], "query"))
    (ps,) = run(enc.token_states([p], "passage"))
    qs, ps = cut(qs, 32), cut(ps, 256)
    if (len(qs), len(ps)) != (32, 256):
        raise SystemExit(f"could not build a 32 x 256 pair (got {len(qs)} x {len(ps)})")
    print(
        f"(a) one heatmap, {len(qs)} x {len(ps)} tokens (align_states, states cached); goal < 50 ms"
    )
    for label, kw in [
        ("sinkhorn     ε=0.05", {"solver": "sinkhorn", "eps": 0.05}),
        ("sinkhorn_log ε=0.05", {"solver": "sinkhorn_log", "eps": 0.05}),
        ("sinkhorn     ε=0.005", {"solver": "sinkhorn", "eps": 0.005}),
        ("sinkhorn_log ε=0.005", {"solver": "sinkhorn_log", "eps": 0.005}),
        ("sinkhorn_log ε=0.002 (auto)", {"solver": "sinkhorn", "eps": 0.002}),
        ("sinkhorn_log ε=0.001 (auto)", {"solver": "sinkhorn", "eps": 0.001}),
        ("emd", {"solver": "emd"}),
        ("unbalanced   ε=0.05 τ=1", {"solver": "unbalanced", "eps": 0.05, "tau": 1.0}),
    ]:
        al = align_states(qs, ps, **kw)
        med, best = timed(lambda kw=kw: align_states(qs, ps, **kw), repeats)
        its = "" if al.iterations is None else f", {al.iterations} iterations"
        print(
            f"    {label:<28} {med * 1e3:7.1f} ms (best {best * 1e3:6.1f}){its}, "
            f"{'converged' if al.converged else 'NOT converged'}"
        )


def pot_solve_batch(sx, sy, eps, backend):
    import ot

    out = np.zeros((len(sx), len(sy)))
    for s_items, t_items, c, a, b in _cross_batches(sx, sy, 2_000_000, 32):
        if backend == "torch":
            import torch

            c, a, b = (torch.from_numpy(x) for x in (c, a, b))
        res = ot.solve_batch(
            c, reg=eps, a=a, b=b, max_iter=10_000, tol=1e-9, method="sinkhorn", grad="detach"
        )
        val = res.value_linear
        val = val.numpy() if backend == "torch" else np.asarray(val)
        out[np.ix_(s_items, t_items)] = val.reshape(len(s_items), len(t_items))
    return out


def throughput(enc: Encoder, data, n: int, loop_pairs: int, repeats: int) -> None:
    cache = TokenStateCache()
    pairs = parallel_pairs(data, "hi")
    idx = pick_indices(len(pairs), n)
    xs = run(cache.get(enc, [pairs[i][0].text for i in idx]))
    ys = run(cache.get(enc, [pairs[i][1].text for i in idx]))
    sx, sy = TokenSets.from_states(xs), TokenSets.from_states(ys)
    total = len(xs) * len(ys)
    eps = 0.05
    print(
        f"\n(b) translation-retrieval scoring, {len(xs)} x {len(ys)} = {total} hi-en pairs, "
        f"Sinkhorn ε={eps}, tol 1e-9 (mean question length {sx.lengths.mean():.1f} / "
        f"{sy.lengths.mean():.1f} tokens)"
    )
    ours = run(cross_costs(sx, sy, eps=eps))
    med, _ = timed(lambda: run(cross_costs(sx, sy, eps=eps)), repeats)
    rate_ours = total / med

    rng = np.random.default_rng(0)
    sample = rng.choice(total, size=min(loop_pairs, total), replace=False)
    loop_cost = np.zeros(len(sample))
    loop_iters = np.zeros(len(sample), dtype=np.int64)
    t0 = time.perf_counter()
    with blas_single_thread():  # as fast as the loop gets on small problems (and fair)
        for k, p in enumerate(sample):
            x, y = xs[p // len(ys)], ys[p % len(ys)]
            c = cosine_cost(x.vectors, y.vectors)
            res = solve(c, np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), eps=eps)
            loop_cost[k], loop_iters[k] = np.sum(res.plan * c), res.iterations
    rate_loop = len(sample) / (time.perf_counter() - t0)
    flat = ours.cost.ravel()[sample]
    print(
        f"    loop of POT ot.sinkhorn calls  {rate_loop:9.0f} pairs/s   (on {len(sample)} "
        "sampled pairs, cost matrix included)"
    )
    print(
        f"    clirlens cross_costs (batched) {rate_ours:9.0f} pairs/s   ratio "
        f"{rate_ours / rate_loop:5.1f}x, max |cost - loop| {np.abs(flat - loop_cost).max():.1e}"
        f", same iteration counts: {bool((ours.iterations.ravel()[sample] == loop_iters).all())}"
    )
    for backend in ("numpy", "torch"):
        t0 = time.perf_counter()
        with blas_single_thread():
            theirs = pot_solve_batch(sx, sy, eps, backend)
        rate = total / (time.perf_counter() - t0)
        diff = np.abs(theirs.ravel()[sample] - loop_cost).max()
        print(
            f"    POT ot.solve_batch ({backend:<5})     {rate:9.0f} pairs/s   ratio "
            f"{rate / rate_loop:5.1f}x, max |cost - loop| {diff:.1e}"
        )
    acc = float(np.mean(ours.cost.argmin(1) == np.arange(len(xs))))
    print(f"    (translation retrieval P@1 from these costs: {acc:.3f})")


def full(models: list[tuple[str, str]], data, langs: list[str], dtype: str) -> None:
    print(
        f"\n(c) mean OT cost over every parallel pair, {len(langs)} languages x "
        f"{len(models)} models, Sinkhorn ε=0.05 ({dtype} encoding, states cached on disk)"
    )
    ot_time = enc_time = 0.0
    pairs_done = 0
    for label, arg in models:
        enc = Encoder(parse_model_arg(arg), dtype=dtype)
        cache = TokenStateCache(Cache())
        for lang in langs:
            pairs = parallel_pairs(data, lang)
            t0 = time.perf_counter()
            xs = run(cache.get(enc, [p[0].text for p in pairs]))
            ys = run(cache.get(enc, [p[1].text for p in pairs]))
            enc_time += time.perf_counter() - t0
            t0 = time.perf_counter()
            res = run(paired_costs(TokenSets.from_states(xs), TokenSets.from_states(ys)))
            dt = time.perf_counter() - t0
            ot_time += dt
            pairs_done += len(pairs)
            print(
                f"    {label:<8} {lang}: {len(pairs)} pairs, mean cost {res.cost.mean():.4f}, "
                f"{dt:.2f} s, iterations mean {res.iterations.mean():.0f} max "
                f"{res.iterations.max()}, unconverged {(~res.converged).sum()}"
            )
    print(
        f"    OT: {pairs_done} pairs in {ot_time:.2f} s ({pairs_done / ot_time:.0f} pairs/s); "
        f"token states (encoding or cache) {enc_time:.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--loop-pairs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="bf16")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--langs", default="el,hi,ro,th,tr")
    args = ap.parse_args()
    langs = args.langs.split(",")
    data = load_xquad(xquad_dir(), ["en", *langs])
    e5 = "me5-small=" + str(test_model("multilingual-e5-small"))
    enc = Encoder(parse_model_arg(e5), dtype=args.dtype)
    heatmap(enc, data, args.repeats)
    if args.full:  # before (b): torch's worker threads, started there, would compete
        full(
            [("me5", e5), ("MiniLM", str(test_model("all-MiniLM-L6-v2")))], data, langs, args.dtype
        )
    throughput(enc, data, args.n, args.loop_pairs, args.repeats)


if __name__ == "__main__":
    main()

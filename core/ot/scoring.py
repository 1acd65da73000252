"""Per-language alignment scores on parallel questions (docs/architecture.md §5).

For a model and a language X, with XQuAD's parallel questions ``(q_X, q_en)`` (same id):

* **mean OT cost**: ``(1/|S|) sum_{k in S} <P_k, C_k>_F`` over the parallel pairs ``S`` (all
  of them by default): how far apart the model puts a question and its translation, token
  by token. Lower is better aligned; comparable between languages for one model and
  solver, not between models (their cosine scales differ).
* **translation retrieval by OT**: ``N`` parallel pairs are taken; for each X question the
  ``N`` English questions are ranked by OT cost and the hit is the parallel one ranked
  first. Reported as accuracy (P@1) and MRR; a candidate tied with the parallel question
  counts in its favour (identical candidate texts cannot be told apart).

The ``N`` pairs are spread evenly over the data set by default (``pick="spread"``: every
k-th pair, so all 48 XQuAD articles take part); ``pick="first"`` takes the first ``N``,
which come from only a few articles whose questions share topics: a harder candidate set,
on which the same model scores lower.

Token states are computed once per (model, role, layer, text) and kept in a
:class:`TokenStateCache` (in memory; on disk too when given a :class:`Cache`). The OT
problems are solved in padded batches (:mod:`clirlens.core.ot.batch`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from clirlens.core.errors import DataError, UserError
from clirlens.core.hashing import fingerprint
from clirlens.core.ot.batch import TokenSets, cross_costs, paired_costs
from clirlens.core.ot.problem import (
    DEFAULT_MAX_ITER,
    DEFAULT_OT,
    DEFAULT_SCORING,
    DEFAULT_TOL,
    OTParams,
    ScoringOptions,
)
from clirlens.core.progress import Job, relabel
from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import Query, TokenStates

if TYPE_CHECKING:
    from clirlens.core.models.encoder import Encoder

Pick = Literal["spread", "first"]


class ParallelQueries(Protocol):
    def queries(self, lang: str) -> Sequence[Query]: ...


@dataclass(frozen=True, eq=False)
class LanguageScore:
    """The alignment score of one model on one language against the pivot (English)."""

    model: str
    lang: str
    pivot: str
    layer: int
    solver: str
    epsilon: float
    tau: float | None
    pairs: int
    mean_cost: float
    std_cost: float
    candidates: int
    accuracy: float
    mrr: float
    problems: int  # OT problems solved for this score (pairs + candidates^2)
    unconverged: int  # of which stopped at max_iter or failed numerically
    pick: str = "spread"
    query_ids: tuple[str, ...] = field(default=(), repr=False)  # the mean-cost pairs
    costs: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    retrieval_ids: tuple[str, ...] = field(default=(), repr=False)
    ranks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def to_json(self, details: bool = False) -> dict[str, Any]:
        out = {
            "model": self.model,
            "lang": self.lang,
            "pivot": self.pivot,
            "layer": self.layer,
            "solver": self.solver,
            "epsilon": self.epsilon,
            "tau": self.tau,
            "pairs": self.pairs,
            "mean_cost": self.mean_cost,
            "std_cost": self.std_cost,
            "candidates": self.candidates,
            "pick": self.pick,
            "accuracy": self.accuracy,
            "mrr": self.mrr,
            "problems": self.problems,
            "unconverged": self.unconverged,
        }
        if details:
            out["costs"] = dict(zip(self.query_ids, self.costs.tolist(), strict=True))
            out["ranks"] = dict(zip(self.retrieval_ids, self.ranks.tolist(), strict=True))
        return out


class TokenStateCache:
    """Content token states (special tokens removed) per (model, role, layer, text).

    In memory always; with ``disk`` each requested batch of texts is also stored as one
    checksummed :class:`Cache` entry (kind ``"ot-states"``), so a later process asking for
    the same texts loads them instead of running the model.
    """

    KIND = "ot-states"

    def __init__(self, disk: Cache | None = None) -> None:
        self.disk = disk
        self._mem: dict[tuple[str, str, int], dict[str, TokenStates]] = {}

    def get(
        self, encoder: Encoder, texts: Sequence[str], *, role: str = "query", layer: int = -1
    ) -> Job[list[TokenStates]]:
        """States of ``texts`` in order (a generator yielding progress while encoding)."""
        fp = encoder.fingerprint()
        store = self._mem.setdefault((fp, role, layer), {})
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        if missing:
            key = fingerprint(fp, role, layer, missing)
            meta = {"encoder": fp, "role": role, "layer": layer, "texts": len(missing)}
            loaded = self._load(key, meta, missing, encoder.name, layer)
            if loaded is None:
                loaded = yield from encoder.token_states(missing, role, layer)  # type: ignore[arg-type]
                loaded = [s.content() for s in loaded]
                if self.disk is not None:
                    self._save(key, meta, loaded)
            store.update(zip(missing, loaded, strict=True))
        return [store[t] for t in texts]

    def _load(
        self, key: str, meta: dict, texts: list[str], model: str, layer: int
    ) -> list[TokenStates] | None:
        if self.disk is None:
            return None
        entry = self.disk.load(self.KIND, key, meta)
        if entry is None:
            return None
        vectors = np.load(entry / "vectors.npy", allow_pickle=False)
        index = json.loads((entry / "tokens.json").read_text(encoding="utf-8"))
        out, start = [], 0
        for text, toks, offs in zip(texts, index["tokens"], index["offsets"], strict=True):
            n = len(toks)
            out.append(
                TokenStates(
                    text,
                    tuple(toks),
                    tuple(tuple(o) for o in offs),
                    (False,) * n,
                    vectors[start : start + n],
                    model,
                    layer,
                )
            )
            start += n
        return out

    def _save(self, key: str, meta: dict, states: list[TokenStates]) -> None:
        assert self.disk is not None

        def write(folder: Path) -> None:
            dim = states[0].vectors.shape[1] if states else 0
            vecs = [s.vectors for s in states if len(s)] or [np.zeros((0, dim), np.float32)]
            np.save(
                folder / "vectors.npy", np.concatenate(vecs).astype(np.float32), allow_pickle=False
            )
            (folder / "tokens.json").write_text(
                json.dumps(
                    {
                        "tokens": [list(s.tokens) for s in states],
                        "offsets": [[list(o) for o in s.offsets] for s in states],
                    },
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )

        self.disk.store(self.KIND, key, meta, write)


def pick_indices(count: int, n: int, pick: Pick = "spread") -> np.ndarray:
    """``n`` of ``count`` items: evenly spread (first and last included) or the first."""
    n = min(n, count)
    if pick == "first":
        return np.arange(n)
    if pick != "spread":
        raise UserError(f"unknown pick {pick!r} (spread or first)")
    return np.unique(np.round(np.linspace(0, count - 1, n)).astype(np.int64))


def parallel_pairs(
    data: ParallelQueries, lang: str, pivot: str = "en"
) -> list[tuple[Query, Query]]:
    """``(question in lang, same-id question in pivot)`` in ``lang``'s order."""
    by_id = {q.id: q for q in data.queries(pivot)}
    pairs = [(q, by_id[q.id]) for q in data.queries(lang) if q.id in by_id]
    if not pairs:
        raise DataError(f"no parallel questions between {lang!r} and {pivot!r}")
    return pairs


def score_language(
    encoder: Encoder,
    data: ParallelQueries,
    lang: str,
    *,
    params: OTParams = DEFAULT_OT,
    options: ScoringOptions = DEFAULT_SCORING,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    cache: TokenStateCache | None = None,
) -> Job[LanguageScore]:
    """Mean OT cost over the parallel pairs and translation retrieval among candidates
    (:class:`ScoringOptions`), for one model and language, with the transport problem of
    ``params`` (its ``words`` option is not used: scores align sub-word pieces)."""
    pivot, n, cost_pairs, pick = options.pivot, options.n, options.cost_pairs, options.pick
    layer, weights = params.layer, params.weights
    eps, tau = params.eps, params.tau
    method = params.method
    cache = cache if cache is not None else TokenStateCache()
    pairs = parallel_pairs(data, lang, pivot)
    cost_idx = np.arange(len(pairs) if cost_pairs is None else min(cost_pairs, len(pairs)))
    ret_idx = pick_indices(len(pairs), n, pick)
    need = np.union1d(cost_idx, ret_idx)
    label = f"{encoder.name} {lang}"
    x_states = yield from relabel(
        cache.get(encoder, [pairs[i][0].text for i in need], role="query", layer=layer), label
    )
    p_states = yield from relabel(
        cache.get(encoder, [pairs[i][1].text for i in need], role="query", layer=layer),
        f"{encoder.name} {pivot}",
    )
    ok = {
        int(i) for i, xs, ps in zip(need, x_states, p_states, strict=True) if len(xs) and len(ps)
    }  # a text with no content token cannot be aligned
    where = {int(i): k for k, i in enumerate(need)}
    cost_idx = np.array([i for i in cost_idx if i in ok], dtype=np.int64)
    ret_idx = np.array([i for i in ret_idx if i in ok], dtype=np.int64)
    if not len(cost_idx) or not len(ret_idx):
        raise DataError(f"{lang}: no parallel pair has content tokens under {encoder.name!r}")

    def sets(states: list[TokenStates], idx: np.ndarray) -> TokenSets:
        return TokenSets.from_states([states[where[int(i)]] for i in idx], weights)

    opts: dict[str, Any] = {
        "solver": method,
        "eps": eps,
        "tau": tau if method == "unbalanced" else None,
        "tol": tol,
        "max_iter": max_iter,
    }
    diag = yield from paired_costs(
        sets(x_states, cost_idx),
        sets(p_states, cost_idx),
        message=f"{label}: OT cost of {len(cost_idx)} pairs",
        **opts,
    )
    cross = yield from cross_costs(
        sets(x_states, ret_idx),
        sets(p_states, ret_idx),
        message=f"{label}: OT retrieval {len(ret_idx)}x{len(ret_idx)}",
        **opts,
    )
    own = np.diag(cross.cost)
    ranks = 1 + (cross.cost < own[:, None]).sum(axis=1)
    return LanguageScore(
        model=encoder.name,
        lang=lang,
        pivot=pivot,
        layer=layer,
        solver=method,
        epsilon=0.0 if method == "emd" else float(eps),
        tau=float(tau) if method == "unbalanced" and tau is not None else None,
        pairs=len(cost_idx),
        mean_cost=float(diag.cost.mean()),
        std_cost=float(diag.cost.std()),
        candidates=len(ret_idx),
        accuracy=float(np.mean(ranks == 1)),
        mrr=float(np.mean(1.0 / ranks)),
        problems=int(diag.converged.size + cross.converged.size),
        unconverged=int((~diag.converged).sum() + (~cross.converged).sum()),
        pick=pick,
        query_ids=tuple(pairs[i][0].id for i in cost_idx),
        costs=diag.cost,
        retrieval_ids=tuple(pairs[i][0].id for i in ret_idx),
        ranks=ranks,
    )


def score_languages(
    encoders: Sequence[Encoder],
    data: ParallelQueries,
    langs: Sequence[str],
    *,
    params: OTParams = DEFAULT_OT,
    options: ScoringOptions = DEFAULT_SCORING,
    cache: TokenStateCache | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
) -> Job[list[LanguageScore]]:
    """:func:`score_language` for every model and language (model-major order), sharing one
    token-state cache so each pivot question is encoded once per model."""
    cache = cache if cache is not None else TokenStateCache()
    out = []
    for enc in encoders:
        for lang in langs:
            score = yield from score_language(
                enc, data, lang, params=params, options=options, cache=cache, max_iter=max_iter
            )
            out.append(score)
    return out

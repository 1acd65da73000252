"""XQuAD-R: LAReQA's language-agnostic answer retrieval (Roy et al. 2020, arXiv 2004.05484),
built from the XQuAD release, and the language preference it reveals.

**Construction.** Each paragraph of each chosen language is split into sentences
(:mod:`clirlens.core.text.sentences`, ICU); a question's answer is the sentence holding its
answer span. The candidates are the sentences of **all** chosen languages pooled; the queries
are every question in every chosen language; a question's correct answers are its answer
sentence in each language, so a kept question has exactly one correct answer per language.
A question whose answer span crosses a sentence boundary in some language is dropped (from
every language: otherwise it would have fewer answers than languages); :attr:`XquadR.dropped`
counts, per language, the questions dropped because of that language.

**Measures.** mAP@20 as LAReQA reports it: ``AP@20 = (1 / min(R, 20)) Σ_{relevant at rank
r ≤ 20} P@r`` with R the number of correct answers (one per language, so R ≤ 20 and this is
trec_eval's ``map_cut_20``, computed by ir-measures), averaged over the queries of each query
language. Per query language and candidate language: the share of that candidate language
among the top ``k`` (each row sums to 1), the recall of that language's correct answer in
the top 20, and its mean rank over the whole pool (1 + the number of candidates scoring
higher). The **same-language gap** summarises the bias (LAReQA's "weak" against "strong"
alignment): per query, the mean rank of its correct answers in the other languages minus the
rank of the one in its own language, averaged over queries; 0 for a model without
preference, positive when it ranks its own language's answer first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import evaluate
from clirlens.core.progress import Job, relabel
from clirlens.core.text.sentences import sentence_splitter
from clirlens.core.types import Passage, Progress, Qrels, Query, Run, ScoredPassage

K = 20  # LAReQA's cut-off
LAREQA_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")  # its 11


@dataclass(frozen=True)
class XquadR:
    """The task (module notes): queries per language, the pooled candidate sentences, each
    kept question's answer sentence per language."""

    langs: tuple[str, ...]
    queries: Mapping[str, tuple[Query, ...]]
    candidates: tuple[Passage, ...]
    answers: Mapping[str, Mapping[str, str]]  # question id -> language -> candidate id
    dropped: Mapping[str, int]
    splitter: str
    questions: int = 0  # questions in the release, before dropping

    @property
    def qrels(self) -> Qrels:
        return Qrels({q: {c: 1 for c in by_lang.values()} for q, by_lang in self.answers.items()})

    def sentences(self, lang: str) -> int:
        return sum(1 for c in self.candidates if c.lang == lang)


def candidate_id(lang: str, passage: str, k: int) -> str:
    return f"{lang}:{passage}:s{k}"


def build_xquad_r(xquad: Any, langs: Sequence[str], articles: int | None = None) -> XquadR:
    """XQuAD-R over ``langs`` of an XQuAD release (:func:`clirlens.core.data.xquad.load_xquad`);
    ``articles``: the first N articles only."""
    langs = tuple(dict.fromkeys(langs))
    if len(langs) < 2:
        raise UserError("XQuAD-R pools several languages: choose at least two")
    name, split = sentence_splitter()
    candidates: list[Passage] = []
    answer_of: dict[str, dict[str, str]] = {}
    crossing: dict[str, set[str]] = {lang: set() for lang in langs}
    for lang in langs:
        bounds: dict[str, list[tuple[int, int, str]]] = {}
        for p in xquad.passages(lang):
            if articles is not None and int(p.id[1:4]) >= articles:
                continue
            spans = split(p.text, lang)
            bounds[p.id] = []
            for k, (a, b) in enumerate(spans):
                cid = candidate_id(lang, p.id, k)
                candidates.append(Passage(cid, p.text[a:b], lang))
                bounds[p.id].append((a, b, cid))
        gold = xquad.task(lang, lang).qrels.data
        for qid, spans in xquad.answers(lang).items():
            pid = next(iter(gold[qid]))
            if pid not in bounds:
                continue  # outside the chosen articles
            answer = spans[0]  # XQuAD has one answer per question
            inside = [c for a, b, c in bounds[pid] if a <= answer.start and answer.end <= b]
            if inside:
                answer_of.setdefault(qid, {})[lang] = inside[0]
            else:
                crossing[lang].add(qid)
    bad = set().union(*crossing.values())
    kept = {q: a for q, a in answer_of.items() if q not in bad and len(a) == len(langs)}
    queries = {lang: tuple(q for q in xquad.queries(lang) if q.id in kept) for lang in langs}
    total = len(answer_of) + len(bad - set(answer_of))
    dropped = {lang: len(crossing[lang]) for lang in langs}
    return XquadR(langs, queries, tuple(candidates), kept, dropped, name, total)


@dataclass(frozen=True)
class LanguagePreference:
    """One model on XQuAD-R (module notes); dicts keyed by query language, then candidate
    language."""

    model: str
    langs: tuple[str, ...]
    k: int
    map20: Mapping[str, float]
    shares: Mapping[str, Mapping[str, float]]
    recall: Mapping[str, Mapping[str, float]]
    mean_rank: Mapping[str, Mapping[str, float]]
    gap: Mapping[str, float]  # per query language
    runs: Mapping[str, Run] = field(default_factory=dict, repr=False)

    @property
    def mean_map20(self) -> float:
        return float(np.mean(list(self.map20.values())))

    @property
    def mean_gap(self) -> float:
        return float(np.mean(list(self.gap.values())))


def language_preference(retriever: Any, task: XquadR, k: int = 10) -> Job[LanguagePreference]:
    """Score ``task`` with a dense retriever (its embedding cache makes a second run warm)."""
    if not hasattr(retriever, "embed_queries"):
        raise UserError(f"{retriever.name} is not a dense model: XQuAD-R needs embeddings")
    yield from relabel(retriever.prepare(task.candidates), "XQuAD-R candidates")
    pool = retriever.passage_vectors
    ids = [c.id for c in task.candidates]
    lang_of = np.array([task.langs.index(c.lang) for c in task.candidates])
    column = {c: i for i, c in enumerate(ids)}
    qrels = task.qrels
    map20, shares, recall, ranks, gap, runs = {}, {}, {}, {}, {}, {}
    for n, lang in enumerate(task.langs):
        yield Progress(n, len(task.langs), f"{retriever.name}: XQuAD-R queries in {lang}")
        queries = task.queries[lang]
        qv = yield from retriever.embed_queries(queries)
        scores = qv @ pool.T
        order = np.argsort(-scores, axis=1, kind="stable")[:, : max(K, k)]
        run = Run(retriever.name, {
            q.id: tuple(ScoredPassage(ids[j], float(scores[i, j]), r + 1)
                        for r, j in enumerate(order[i, :K]))
            for i, q in enumerate(queries)
        })  # fmt: skip
        runs[lang] = run
        map20[lang] = float(evaluate(run, qrels, ("AP@20",)).aggregate["AP@20"])
        top = lang_of[order[:, :k]]
        shares[lang] = {m: float((top == j).mean()) for j, m in enumerate(task.langs)}
        cols = np.array([[column[task.answers[q.id][m]] for m in task.langs] for q in queries])
        gold = np.take_along_axis(scores, cols, axis=1)  # (queries, languages)
        rank = np.concatenate([  # in chunks: queries × languages × candidates booleans
            1 + (scores[i : i + 128, None, :] > gold[i : i + 128, :, None]).sum(axis=2)
            for i in range(0, len(queries), 128)
        ])  # fmt: skip
        recall[lang] = {m: float((rank[:, j] <= K).mean()) for j, m in enumerate(task.langs)}
        ranks[lang] = {m: float(rank[:, j].mean()) for j, m in enumerate(task.langs)}
        own = task.langs.index(lang)
        others = np.delete(rank, own, axis=1).mean(axis=1)
        gap[lang] = float((others - rank[:, own]).mean())
    yield Progress(len(task.langs), len(task.langs), f"{retriever.name}: XQuAD-R scored")
    return LanguagePreference(
        retriever.name, task.langs, k, map20, shares, recall, ranks, gap, runs
    )


def preference_csv(results: Sequence[LanguagePreference]) -> str:
    """Every model's matrices as one CSV (model, query language, candidate language, share
    among the top k, recall@20 of the correct answer, its mean rank)."""
    lines = ["model,query_lang,candidate_lang,share_top_k,k,recall_at_20,mean_rank"]
    for r in results:
        for q in r.langs:
            for c in r.langs:
                lines.append(
                    f"{r.model},{q},{c},{r.shares[q][c]:.6f},{r.k},{r.recall[q][c]:.6f},"
                    f"{r.mean_rank[q][c]:.3f}"
                )
    return "\n".join(lines) + "\n"

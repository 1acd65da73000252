"""BM25 lexical baseline (bm25s), same-language only.

Tokenisation decides BM25's quality more than its parameters. Scripts written without
spaces between words (Thai, Chinese, Japanese, Lao, Khmer, Myanmar) defeat a ``\\w+`` regex:
it returns whole sentences as single tokens. For those, text is split into overlapping
character bigrams (plus unigrams), the standard dictionary-free approach for CJK retrieval
(e.g. Lucene's CJKBigramFilter). Other text is lower-cased, split on ``\\w+`` and, where a
Snowball stemmer exists for the language (PyStemmer, when installed), stemmed.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from clirlens.core.progress import Job
from clirlens.core.types import Passage, Progress, Query, Run, ScoredPassage

# \w does not match combining marks (Thai vowel signs, Devanagari matras, Arabic harakat),
# which would cut words apart: the blocks of those scripts count as word characters too,
# less their punctuation (Devanagari danda, Thai/Arabic signs below).
_WORD = re.compile(
    r"(?:[\w\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f"
    r"\u0900-\u0963\u0966-\u097f\u0e01-\u0e4e\u0e50-\u0e59\u0e81-\u0edf"
    r"\u1000-\u1049\u1780-\u17dd])+"
)
# scripts without word spaces: Thai, Lao, Myanmar, Khmer, CJK ideographs, kana, hangul
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
_SNOWBALL = {
    "ar": "arabic",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "hi": "hindi",
    "ro": "romanian",
    "ru": "russian",
    "tr": "turkish",
}


def _stemmer(lang: str):
    name = _SNOWBALL.get(lang)
    if name is None:
        return None
    try:
        import Stemmer  # PyStemmer
    except ImportError:
        return None
    try:
        return Stemmer.Stemmer(name)
    except KeyError:
        return None


def tokenize(text: str, lang: str = "und", stemmer=None) -> list[str]:
    """Index terms of ``text``: words (stemmed when possible) and, inside runs of unspaced
    scripts, character unigrams and bigrams."""
    text = unicodedata.normalize("NFKC", text).lower()
    terms: list[str] = []
    for word in _WORD.findall(text):
        if _UNSPACED.search(word):
            chars = [c for c in word if not c.isspace()]
            terms.extend(chars)
            terms.extend(a + b for a, b in itertools.pairwise(chars))
        else:
            terms.append(stemmer.stemWord(word) if stemmer else word)
    return terms


class BM25Retriever:
    """Okapi BM25 over a corpus in one language (k1=1.5, b=0.75, bm25s' defaults)."""

    kind = "bm25"

    def __init__(self, name: str = "bm25", k1: float = 1.5, b: float = 0.75) -> None:
        self.name = name
        self.k1, self.b = k1, b
        self._index = None
        self._ids: list[str] = []
        self._lang = "und"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "kind": "bm25",
            "k1": self.k1,
            "b": self.b,
            "tokenizer": "words+snowball / char bigrams for unspaced scripts",
        }

    def prepare(self, corpus: Sequence[Passage]) -> Job[None]:
        import bm25s

        langs = {p.lang for p in corpus}
        self._lang = langs.pop() if len(langs) == 1 else "und"
        stemmer = _stemmer(self._lang)
        tokens = []
        for i, p in enumerate(corpus):
            tokens.append(tokenize(p.text, p.lang, stemmer) or ["\u2400"])
            if i % 2000 == 0:
                yield Progress(i, len(corpus), "BM25 tokenising")
        index = bm25s.BM25(k1=self.k1, b=self.b)
        index.index(tokens, show_progress=False)
        self._index, self._ids = index, [p.id for p in corpus]
        yield Progress(len(corpus), len(corpus), "BM25 indexed")

    def exact_rank(
        self, queries: Sequence[Query], query_id: str, passage_id: str
    ) -> Job[tuple[int, float] | None]:
        """The rank and BM25 score of ``passage_id`` over the whole corpus (see
        :meth:`DenseRetriever.exact_rank`)."""
        query = next((q for q in queries if q.id == query_id), None)
        if self._index is None or query is None or passage_id not in self._ids:
            return None
        tokens = tokenize(query.text, query.lang, _stemmer(query.lang)) or ["\u2400"]
        scores = np.asarray(self._index.get_scores(tokens))
        score = float(scores[self._ids.index(passage_id)])
        yield Progress(1, 1, "BM25 scored")
        return 1 + int(np.count_nonzero(scores > score)), score

    def search(self, queries: Sequence[Query], k: int) -> Job[Run]:
        if self._index is None:
            raise RuntimeError("prepare() the corpus before searching")
        rankings: dict[str, tuple[ScoredPassage, ...]] = {}
        if not queries:
            return Run(self.name, rankings)
        k = min(k, len(self._ids))
        stemmers = {}
        toks = []
        for q in queries:
            if q.lang not in stemmers:
                stemmers[q.lang] = _stemmer(q.lang)
            toks.append(tokenize(q.text, q.lang, stemmers[q.lang]) or ["\u2400"])
        docs, scores = self._index.retrieve(toks, k=k, show_progress=False)
        for q, row_docs, row_scores in zip(
            queries, np.asarray(docs), np.asarray(scores), strict=True
        ):
            ranked = [
                (self._ids[int(d)], float(s))
                for d, s in zip(row_docs, row_scores, strict=True)
                if s > 0
            ]
            rankings[q.id] = tuple(
                ScoredPassage(pid, s, r + 1) for r, (pid, s) in enumerate(ranked)
            )
        yield Progress(len(queries), len(queries), "BM25 searched")
        return Run(self.name, rankings)

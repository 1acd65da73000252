"""A run file as a system: rankings from another tool standing where a model stands.

A TREC run (from pyserini, a cluster job, any system) is read once
(:func:`clirlens.core.data.trec.read_run`, the one run reader) and serves the views and the
evaluation like a retriever: ``search`` returns the file's ranking of each query, cut at
``k``, in the file's order (score descending, its own ranks breaking ties). What needs a
model — free-text search, token alignment — says so instead
(:class:`~clirlens.core.errors.ModelError`).

A run ranks one direction: XQuAD's question ids are the same in every language, so a file
given without a direction serves any direction, and one given as ``th-en:FILE`` only that
one (``clirlens.core.models.spec.run_spec``). Passages the corpus does not hold are
dropped from the rankings and counted in :meth:`describe`; a file sharing no passage with
the corpus is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence

from clirlens.core.data.store import passage_ids
from clirlens.core.data.trec import read_run
from clirlens.core.errors import ModelError
from clirlens.core.hashing import file_sha256
from clirlens.core.models.spec import ModelSpec, run_files
from clirlens.core.progress import Job
from clirlens.core.types import Passage, Progress, Query, Run, ScoredPassage


class RunRetriever:
    kind = "run"

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.files = run_files(spec)
        self._runs: dict[tuple[str, str] | None, Run] = {}
        self._corpus_ids: frozenset[str] = frozenset()
        self._doc_lang = ""
        self.dropped = 0  # ranked passages the corpus does not hold

    def prepare(self, corpus: Sequence[Passage]) -> Job[None]:
        yield Progress(0, 1, f"{self.name}: the corpus its run file ranks")
        self._corpus_ids = frozenset(passage_ids(corpus))
        self._doc_lang = corpus[0].lang if corpus else ""
        yield Progress(1, 1, f"{self.name}: ready (the file is read at the first search)")

    def _run_for(self, query_lang: str) -> Run:
        key: tuple[str, str] | None = (query_lang, self._doc_lang)
        if key not in self.files:
            if None not in self.files:
                covered = ", ".join(f"{q}→{d}" for q, d in filter(None, self.files))
                raise ModelError(
                    f"{self.name} has no run for {query_lang}→{self._doc_lang} (its files "
                    f"rank {covered}): add one with --run "
                    f"{self.name}={query_lang}-{self._doc_lang}:FILE"
                )
            key = None
        if key not in self._runs:
            path = self.files[key]
            run = read_run(path, self.name)
            ranked = {d.passage_id for r in run.rankings.values() for d in r}
            if ranked and not ranked & self._corpus_ids:
                raise ModelError(
                    f"{path} ranks passages this corpus does not have (e.g. "
                    f"{min(ranked)!r}): is it a run of this collection?"
                )
            self.dropped += len(ranked - self._corpus_ids)
            self._runs[key] = run
        return self._runs[key]

    def search(self, queries: Sequence[Query], k: int) -> Job[Run]:
        yield Progress(0, len(queries), f"{self.name}: rankings from the run file")
        if not queries:
            return Run(self.name, {})
        run = self._run_for(queries[0].lang)
        rankings = {}
        for q in queries:
            kept = [d for d in run.rankings.get(q.id, ()) if d.passage_id in self._corpus_ids]
            rankings[q.id] = tuple(
                ScoredPassage(d.passage_id, d.score, i + 1) for i, d in enumerate(kept[:k])
            )
        yield Progress(len(queries), len(queries), f"{self.name}: rankings from the run file")
        return Run(self.name, rankings)

    def describe(self) -> dict:
        files = {
            (f"{key[0]}-{key[1]}" if key else "any"): {
                "path": str(path),
                "sha256": file_sha256(path) if path.is_file() else None,
            }
            for key, path in self.files.items()
        }
        return {"name": self.name, "kind": "run", "files": files, "dropped": self.dropped}

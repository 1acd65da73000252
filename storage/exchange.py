"""TREC qrels in and out of the judgments database: import a file as one annotator's judgments,
export one annotator's (or the aggregated) judgments.

Files are read by core's one qrels reader (:func:`clirlens.core.data.trec.read_qrels_lines`),
with grades restricted to 0–3: a file with any bad line (wrong number of fields, a grade that
is not a whole number 0–3, a pair given twice, a pair outside the campaign's pool) imports
nothing, and the error names every bad line by number. Writing emits ``query 0 passage
grade`` sorted by query id, then passage id.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from clirlens.core.data.trec import qrels_lines, read_qrels_lines
from clirlens.core.errors import DataError
from clirlens.core.types import Qrels

from .records import GRADES, ImportSummary

if TYPE_CHECKING:
    from .repository import JudgmentRepository


def import_qrels_file(
    repo: JudgmentRepository,
    path: str | os.PathLike[str],
    campaign: str,
    annotator: str,
    *,
    dataset: str = "",
) -> ImportSummary:
    """Import a TREC qrels file as ``annotator``'s judgments in ``campaign`` (created, with the
    file's pairs as its pool, when it does not exist). All or nothing."""
    lines = read_qrels_lines(path, grades=GRADES, consequence="nothing imported")
    if not lines:
        raise DataError(f"{path}: no judgments in it, nothing imported")
    return repo.import_judgments(campaign, annotator, lines, source=str(path), dataset=dataset)


def export_qrels(
    repo: JudgmentRepository,
    campaign: str,
    annotator: str | None = None,
    *,
    method: str = "majority",
    threshold: float = 2.0,
) -> str:
    """TREC qrels text of one annotator's judgments, or of all annotators aggregated with
    ``method`` (see :meth:`JudgmentRepository.qrels`)."""
    qrels = repo.qrels(campaign, annotator=annotator, method=method, threshold=threshold)
    ordered = Qrels.from_triples(
        sorted((q, d, g) for q, docs in qrels.data.items() for d, g in docs.items())
    )
    return "".join(line + "\n" for line in qrels_lines(ordered))

"""TREC qrels exchange: ``query-id iteration passage-id grade``, one judgment per line.

Reading validates every line before anything is written: a file with any bad line (wrong
number of fields, a grade that is not a whole number 0–3, a pair given twice, a pair outside
the campaign's pool) imports nothing, and the error names every bad line by number. Blank lines
and lines starting with ``#`` are skipped; the iteration column is read and ignored (TREC
writes ``0``). Writing emits ``query 0 passage grade`` sorted by query id, then passage id.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from clirlens.core.errors import DataError, UserError
from clirlens.core.types import Qrels

from .records import GRADES, ImportSummary

if TYPE_CHECKING:
    from .repository import JudgmentRepository

MAX_SHOWN = 8  # bad lines spelled out in the one-line message; all are in .problems


@dataclass(frozen=True)
class QrelsLine:
    line: int  # 1-based line number in the file
    query_id: str
    passage_id: str
    grade: int


class QrelsError(DataError):
    """A qrels file with bad lines; ``problems`` lists ``(line number, what is wrong)``."""

    def __init__(self, source: str, problems: Sequence[tuple[int, str]]) -> None:
        self.source = source
        self.problems = tuple(sorted(problems))
        shown = "; ".join(f"line {n}: {msg}" for n, msg in self.problems[:MAX_SHOWN])
        more = len(self.problems) - MAX_SHOWN
        if more > 0:
            shown += f"; and {more} more"
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} bad line{'s' if count != 1 else ''}, nothing imported: {shown}"
        )


def parse_trec_qrels(text: str, source: str = "<qrels>") -> list[QrelsLine]:
    """Every judgment of a TREC qrels text, or :class:`QrelsError` naming every bad line."""
    out: list[QrelsLine] = []
    problems: list[tuple[int, str]] = []
    first_seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 4:
            problems.append(
                (number, f"expected 4 fields (query iteration passage grade), got {len(fields)}")
            )
            continue
        qid, _iteration, pid, grade_text = fields
        try:
            grade = int(grade_text)
        except ValueError:
            problems.append((number, f"grade {grade_text!r} is not a whole number"))
            continue
        if grade not in GRADES:
            problems.append((number, f"grade {grade} is out of range 0–3"))
            continue
        key = (qid, pid)
        if key in first_seen:
            problems.append(
                (number, f"query {qid} passage {pid} is already judged on line {first_seen[key]}")
            )
            continue
        first_seen[key] = number
        out.append(QrelsLine(number, qid, pid, grade))
    if problems:
        raise QrelsError(source, problems)
    return out


def read_trec_qrels(path: str | os.PathLike[str]) -> list[QrelsLine]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such qrels file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QrelsError(str(path), [(line, "not UTF-8 text")]) from None
    return parse_trec_qrels(text, str(path))


def format_trec_qrels(triples: Iterable[tuple[str, str, int]]) -> str:
    lines = []
    for qid, pid, grade in sorted(triples):
        for kind, value in (("query", qid), ("passage", pid)):
            if not value or any(c.isspace() for c in value):
                raise UserError(f"{kind} id {value!r} cannot be written to TREC qrels (spaces)")
        lines.append(f"{qid} 0 {pid} {grade}\n")
    return "".join(lines)


def qrels_triples(qrels: Qrels) -> list[tuple[str, str, int]]:
    return [(q, d, g) for q, docs in qrels.data.items() for d, g in docs.items()]


def write_trec_qrels(qrels: Qrels, stream: TextIO) -> int:
    """Write ``qrels`` to ``stream``; returns the number of lines."""
    triples = qrels_triples(qrels)
    stream.write(format_trec_qrels(triples))
    return len(triples)


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
    lines = read_trec_qrels(path)
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
    return format_trec_qrels(qrels_triples(qrels))

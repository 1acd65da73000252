"""TREC run and qrels files.

Formats (whitespace-separated, one record per line, blank lines ignored):

* run:   ``qid Q0 docid rank score tag`` (the second column is conventionally ``Q0`` and is
  not checked, as trec_eval does not check it either);
* qrels: ``qid 0 docid grade`` (the second column is the unused "iteration" field, read and
  ignored; lines starting with ``#`` are comments).

Reading a run orders each query's documents by score, descending, like trec_eval; ties in
score keep the order of the file's rank column (then the document id), and ranks are
renumbered 1..n. Malformed run lines raise :class:`~clirlens.core.errors.DataError` naming
the file and line. Qrels are read by one reader, :func:`parse_qrels`, for evaluation and for
importing judgments alike: it checks every line before anything is used and raises one
:class:`QrelsError` naming every bad line (wrong number of fields, a grade that is not a whole
number in ASCII digits, a grade outside the caller's range, a pair given twice). Writes are atomic: a temporary file in the same folder replaced onto the
target with :func:`os.replace`, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from clirlens.core.errors import DataError
from clirlens.core.types import Qrels, Run, ScoredPassage

PathLike = str | os.PathLike[str]


def _lines(path: Path, kind: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every non-blank line of ``path``."""
    if not path.is_file():
        raise DataError(f"{kind} file not found: {path}")
    try:
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                fields = line.split()
                if fields:
                    yield lineno, fields
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_run(path: PathLike, name: str | None = None) -> Run:
    """Read a TREC run file; the run's name is ``name`` or else the tag of its first line."""
    path = Path(path)
    rows: dict[str, dict[str, tuple[float, int]]] = {}
    tag: str | None = None
    for lineno, fields in _lines(path, "run"):
        where = f"{path}:{lineno}"
        if len(fields) != 6:
            raise DataError(
                f"{where}: expected 6 columns 'qid Q0 docid rank score tag', got {len(fields)}"
            )
        qid, _, docid, rank_s, score_s, line_tag = fields
        try:
            rank = int(rank_s)
        except ValueError:
            raise DataError(f"{where}: rank {rank_s!r} is not an integer") from None
        try:
            score = float(score_s)
        except ValueError:
            raise DataError(f"{where}: score {score_s!r} is not a number") from None
        if math.isnan(score):
            raise DataError(f"{where}: score is NaN")
        docs = rows.setdefault(qid, {})
        if docid in docs:
            raise DataError(f"{where}: document {docid!r} appears twice for query {qid!r}")
        docs[docid] = (score, rank)
        tag = tag or line_tag
    rankings = {}
    for qid, docs in rows.items():
        ordered = sorted(docs.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))
        rankings[qid] = tuple(ScoredPassage(d, s, i + 1) for i, (d, (s, _)) in enumerate(ordered))
    return Run(name or tag or path.stem, rankings)


MAX_SHOWN = 8  # bad lines spelled out in the one-line message; all are in .problems
_GRADE = re.compile(r"-?[0-9]+")  # ASCII digits only: int() would also take "３", "٣", "1_0"


@dataclass(frozen=True)
class QrelsLine:
    line: int  # 1-based line number in the file
    query_id: str
    passage_id: str
    grade: int


class QrelsError(DataError):
    """A qrels file with bad lines; ``problems`` lists ``(line number, what is wrong)``."""

    def __init__(
        self, source: str, problems: Sequence[tuple[int, str]], consequence: str = ""
    ) -> None:
        self.source = source
        self.problems = tuple(sorted(problems))
        shown = "; ".join(f"line {n}: {msg}" for n, msg in self.problems[:MAX_SHOWN])
        more = len(self.problems) - MAX_SHOWN
        if more > 0:
            shown += f"; and {more} more"
        count = len(self.problems)
        after = f", {consequence}" if consequence else ""
        super().__init__(f"{source}: {count} bad line{'s' if count != 1 else ''}{after}: {shown}")


def parse_qrels(
    text: str,
    source: str = "<qrels>",
    *,
    grades: Container[int] | None = None,
    consequence: str = "",
) -> list[QrelsLine]:
    """Every judgment of a TREC qrels text, or :class:`QrelsError` naming every bad line.

    ``grades``: the grades allowed (default: any whole number, negative ones included, as
    trec_eval reads them). ``consequence`` is said in the error (e.g. "nothing imported").
    """
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
        if not _GRADE.fullmatch(grade_text):
            problems.append((number, f"grade {grade_text!r} is not a whole number"))
            continue
        grade = int(grade_text)
        if grades is not None and grade not in grades:
            problems.append((number, f"grade {grade} is out of range {_range(grades)}"))
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
        raise QrelsError(source, problems, consequence)
    return out


def _range(grades: Container[int]) -> str:
    values = sorted(grades) if isinstance(grades, Iterable) else []
    return f"{values[0]}–{values[-1]}" if values else "allowed"


def read_qrels_lines(
    path: PathLike, *, grades: Container[int] | None = None, consequence: str = ""
) -> list[QrelsLine]:
    """:func:`parse_qrels` of a UTF-8 file (a byte-order mark is allowed)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such qrels file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a qrels file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QrelsError(str(path), [(line, "not UTF-8 text")], consequence) from None
    return parse_qrels(text, str(path), grades=grades, consequence=consequence)


def read_qrels(path: PathLike) -> Qrels:
    """Read a TREC qrels file (``qid 0 docid grade``; grades are integers, may be negative)."""
    return Qrels.from_triples((x.query_id, x.passage_id, x.grade) for x in read_qrels_lines(path))


def _check_token(value: str, what: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise DataError(
            f"{what} {value!r} is empty or contains whitespace; TREC files are whitespace-separated"
        )
    return value


def run_lines(run: Run, tag: str | None = None) -> Iterator[str]:
    """The lines (without newline) of ``run`` in TREC format, queries in the run's order.

    The tag defaults to the run's name with whitespace replaced by ``_``. Scores are written
    with ``repr`` (shortest round-trip form), so reading the file back gives equal floats.
    """
    tag = _check_token(tag if tag is not None else "_".join(run.name.split()), "run tag")
    for qid, ranking in run.rankings.items():
        _check_token(qid, "query id")
        for sp in ranking:
            _check_token(sp.passage_id, "passage id")
            yield f"{qid} Q0 {sp.passage_id} {sp.rank} {float(sp.score)!r} {tag}"


def qrels_lines(qrels: Qrels) -> Iterator[str]:
    """The lines of ``qrels`` in TREC format, in insertion order."""
    for qid, docs in qrels.data.items():
        _check_token(qid, "query id")
        for docid, grade in docs.items():
            yield f"{qid} 0 {_check_token(docid, 'passage id')} {grade}"


def write_lines_atomic(path: PathLike, lines: Iterable[str]) -> Path:
    """Write ``lines`` (each followed by a newline) to ``path`` atomically; returns the path.

    Lines are produced before anything is replaced: an error while producing them leaves an
    existing file untouched and no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the usual mode (or the replaced file's)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_run(run: Run, path: PathLike, tag: str | None = None) -> Path:
    """Write ``run`` as a TREC run file (atomically)."""
    return write_lines_atomic(path, run_lines(run, tag))


def write_qrels(qrels: Qrels, path: PathLike) -> Path:
    """Write ``qrels`` as a TREC qrels file (atomically)."""
    return write_lines_atomic(path, qrels_lines(qrels))

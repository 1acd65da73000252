"""Bitext for distillation: pairs of a low-resource text and its English (pivot) side.

Sources:

* XQuAD's parallel questions, split **by article** (``--train-articles 0-31``): a question
  belongs to the article of its gold paragraph, so held-out evaluation on the other
  articles never sees a question (nor a paraphrase of one) the student trained on;
* a user file: TSV (``source<TAB>target`` per line), JSONL (``{"source": …, "target": …}``
  per line, ``src``/``tgt`` accepted), or Moses-style parallel files given as
  ``corpus.th,corpus.en`` (line *i* of one is the translation of line *i* of the other).

A malformed line (no tab, an empty side, bad JSON, files of different lengths) is refused
with one line naming the file and the line number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clirlens.core.errors import DataError, UserError
from clirlens.core.hashing import fingerprint


@dataclass(frozen=True)
class Pair:
    """One bitext pair: the low-resource ``source`` and its ``target`` translation."""

    id: str
    source: str
    target: str


@dataclass(frozen=True)
class Bitext:
    """Pairs, where they came from (said in the model card) and their hash."""

    pairs: tuple[Pair, ...]
    origin: str

    @property
    def hash(self) -> str:
        return fingerprint([(p.source, p.target) for p in self.pairs])

    def __len__(self) -> int:
        return len(self.pairs)


_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_articles(text: str) -> frozenset[int]:
    """``"0-31"``, ``"0-9,20-29"`` or ``"3"`` as a set of article numbers."""
    out: set[int] = set()
    for part in text.split(","):
        m = _RANGE.match(part)
        if m is None:
            raise UserError(f"articles {text!r}: expected ranges such as 0-31 or 0-9,20-29")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise UserError(f"articles {text!r}: the range {lo}-{hi} is empty")
        out.update(range(lo, hi + 1))
    return frozenset(out)


def article_of(passage_id: str) -> int:
    m = re.match(r"^a(\d+)-p\d+$", passage_id)
    if m is None:
        raise DataError(f"passage id {passage_id!r} is not an XQuAD paragraph id")
    return int(m.group(1))


def query_articles(task) -> dict[str, int]:
    """The article of each query of an XQuAD task (its gold paragraph's)."""
    out = {}
    for q in task.queries:
        relevant = sorted(task.qrels.relevant(q.id))
        if relevant:
            out[q.id] = article_of(relevant[0])
    return out


def xquad_bitext(
    xquad,
    lang: str,
    articles: Iterable[int],
    pivot: str = "en",
    *,
    paragraphs: bool = False,
    english: bool = False,
) -> Bitext:
    """The parallel questions ``lang`` → ``pivot`` of the given articles, in dataset order;
    ``paragraphs``: their parallel paragraphs too; ``english``: each pivot question paired
    with itself too (the student learns the teacher's space on the teacher's language, as
    in multilingual knowledge distillation, Reimers & Gurevych 2020)."""
    chosen = frozenset(articles)
    task = xquad.task(lang, pivot)
    by_article = query_articles(task)
    targets = {q.id: q.text for q in xquad.queries(pivot)}
    pairs = tuple(
        Pair(q.id, q.text, targets[q.id])
        for q in task.queries
        if by_article.get(q.id) in chosen and q.id in targets
    )
    extra = []
    if english:
        extra += [Pair(f"{p.id}/{pivot}", p.target, p.target) for p in pairs]
    if paragraphs:
        pivot_text = {p.id: p.text for p in xquad.passages(pivot)}
        extra += [
            Pair(p.id, p.text, pivot_text[p.id])
            for p in xquad.passages(lang)
            if article_of(p.id) in chosen and p.id in pivot_text
        ]
    if not pairs:
        raise UserError(
            f"no XQuAD question of articles {_ranges(chosen)} in {lang}: "
            f"the release has articles 0-{max(by_article.values(), default=0)}"
        )
    what = "questions" + (" and paragraphs" if paragraphs else "")
    what += f" (and {pivot} questions paired with themselves)" if english else ""
    return Bitext(pairs + tuple(extra), f"XQuAD {lang}-{pivot} {what}, articles {_ranges(chosen)}")


def _ranges(numbers: Iterable[int]) -> str:
    xs = sorted(numbers)
    out: list[str] = []
    for x in xs:
        if out and x == int(out[-1].split("-")[-1]) + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{x}"
        else:
            out.append(str(x))
    return ",".join(out)


def _lines(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        raise UserError(f"bitext file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{path} cannot be read ({exc.strerror or exc})") from None


def _pair(path: Path, number: int, source: object, target: object) -> Pair:
    if not isinstance(source, str) or not isinstance(target, str):
        raise DataError(f"{path}, line {number}: source and target must be text")
    source, target = " ".join(source.split()), " ".join(target.split())
    if not source or not target:
        side = "source" if not source else "target"
        raise DataError(f"{path}, line {number}: the {side} side is empty")
    return Pair(f"{path.name}:{number}", source, target)


def read_bitext(spec: str | Path) -> Bitext:
    """A user bitext file (see the module notes); ``spec`` is a path, or two paths joined by
    a comma for Moses-style parallel files."""
    text = str(spec)
    if "," in text and not Path(text).exists():
        first, second = (Path(x.strip()).expanduser() for x in text.split(",", 1))
        left, right = _lines(first), _lines(second)
        if len(left) != len(right):
            raise DataError(
                f"{first} has {len(left)} lines but {second} has {len(right)}: parallel "
                "files must have one translation per line"
            )
        pairs = [
            _pair(first, i + 1, s, t) for i, (s, t) in enumerate(zip(left, right, strict=True))
        ]
        return _bitext(pairs, f"{first.name} / {second.name}", first)
    path = Path(text).expanduser()
    lines = _lines(path)
    pairs = []
    jsonl = path.suffix.lower() in (".jsonl", ".json") or (lines and lines[0].lstrip()[:1] == "{")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if jsonl:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}, line {number}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}, line {number}: expected an object with source, target")
            pairs.append(
                _pair(
                    path, number, record.get("source", record.get("src")),
                    record.get("target", record.get("tgt")),
                )
            )  # fmt: skip
        else:
            parts = line.split("\t")
            if len(parts) != 2:
                raise DataError(
                    f"{path}, line {number}: expected source<TAB>target, found "
                    f"{len(parts) - 1} tabs"
                )
            pairs.append(_pair(path, number, parts[0], parts[1]))
    return _bitext(pairs, path.name, path)


def _bitext(pairs: Sequence[Pair], origin: str, path: Path) -> Bitext:
    if not pairs:
        raise DataError(f"{path}: no bitext pairs")
    return Bitext(tuple(pairs), origin)

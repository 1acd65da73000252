"""XQuAD (Artetxe et al. 2020) as a cross-lingual retrieval benchmark (docs/architecture.md §4).

A folder holds ``xquad.{lang}.json`` files in SQuAD v1.1 format, all parallel: the same
articles, paragraphs and question ids in the same order. Hence:

* passage id = ``"a{article:03d}-p{paragraph:02d}"`` (0-based indices into the file), the
  same in every language, e.g. ``"a007-p03"``;
* query id = the SQuAD question id, the same in every language;
* qrels for a direction X→Y: each question is relevant (grade :data:`RELEVANT`) to the
  paragraph with the same identity in language Y;
* titles are English in every file, so only English passages carry ``Passage.title``
  (underscores of the Wikipedia page name turned into spaces); titles are never part of
  ``Passage.text``.

Text is taken as is, except that a leading byte-order mark (U+FEFF, present in some
non-English contexts) is removed from contexts, with the answer offsets shifted to match,
and questions are stripped of surrounding whitespace. Files are parsed lazily, one language
at a time, and cached in the :class:`XQuAD` object; every parsed language is checked to be
parallel to the reference (English when its file is present, else the first file).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from clirlens.core.errors import DataError
from clirlens.core.jsonio import parse_json
from clirlens.core.types import Answer, Passage, Qrels, Query, RetrievalTask

LOW_RESOURCE: tuple[str, ...] = ("el", "hi", "ro", "th", "tr")
XQUAD_LANGS: tuple[str, ...] = (
    "ar",
    "de",
    "el",
    "en",
    "es",
    "hi",
    "ro",
    "ru",
    "th",
    "tr",
    "vi",
    "zh",
)
RELEVANT = 1
_FILE_RE = re.compile(r"^xquad\.([a-z]{2,3}(?:-[a-z0-9]+)?)\.json$")
LANG_CODE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)?$")


def passage_id(article: int, paragraph: int) -> str:
    """The stable, language-independent id of a paragraph (0-based indices)."""
    return f"a{article:03d}-p{paragraph:02d}"


@dataclass(frozen=True)
class _Parsed:
    """One language's file, parsed and validated."""

    lang: str
    fingerprint: str
    passages: tuple[Passage, ...]
    queries: tuple[Query, ...]
    gold: Mapping[str, str]  # query id -> passage id
    answers: Mapping[str, tuple[Answer, ...]]
    structure: tuple[tuple[tuple[str, ...], ...], ...]  # article -> paragraph -> question ids


def _get(obj: Any, key: str, kind: type, where: str, file: str) -> Any:
    if not isinstance(obj, dict):
        raise DataError(f"{file}: {where} is a {type(obj).__name__}, expected an object")
    if key not in obj:
        raise DataError(f"{file}: {where}: missing key {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DataError(
            f"{file}: {where}.{key} is a {type(value).__name__}, "
            f"expected {'a list' if kind is list else kind.__name__}"
        )
    return value


def _parse(path: Path, lang: str) -> _Parsed:
    """Read, hash and validate one SQuAD v1.1 file."""
    file = path.name
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    doc = parse_json(raw, str(path))
    articles = _get(doc, "data", list, "top level", file)
    passages, queries, gold, answers, structure = [], [], {}, {}, []
    for ai, article in enumerate(articles):
        a_where = f"data[{ai}]"
        title = _get(article, "title", str, a_where, file)
        paragraphs = _get(article, "paragraphs", list, a_where, file)
        a_struct = []
        for pi, para in enumerate(paragraphs):
            p_where = f"{a_where}.paragraphs[{pi}]"
            context = _get(para, "context", str, p_where, file)
            shift = len(context) - len(context.lstrip("\ufeff"))
            context = context[shift:]
            pid = passage_id(ai, pi)
            passages.append(
                Passage(pid, context, lang, title.replace("_", " ") if lang == "en" else None)
            )
            qids = []
            for qi, qa in enumerate(_get(para, "qas", list, p_where, file)):
                q_where = f"{p_where}.qas[{qi}]"
                qid = _get(qa, "id", str, q_where, file)
                if qid in gold:
                    raise DataError(f"{file}: {q_where}: question id {qid!r} appears twice")
                question = _get(qa, "question", str, q_where, file).strip("\ufeff \t\r\n")
                queries.append(Query(qid, question, lang))
                gold[qid] = pid
                qids.append(qid)
                spans = []
                for ni, ans in enumerate(_get(qa, "answers", list, q_where, file)):
                    n_where = f"{q_where}.answers[{ni}]"
                    text = _get(ans, "text", str, n_where, file)
                    start = _get(ans, "answer_start", int, n_where, file) - shift
                    if start < 0 or context[start : start + len(text)] != text:
                        raise DataError(
                            f"{file}: {n_where} (question {qid}): answer {text!r} "
                            f"is not at offset {start + shift} of the context"
                        )
                    spans.append(Answer(text, start))
                answers[qid] = tuple(spans)
            a_struct.append(tuple(qids))
        structure.append(tuple(a_struct))
    if not passages:
        raise DataError(f"{file}: no paragraphs")
    return _Parsed(
        lang,
        hashlib.sha256(raw).hexdigest(),
        tuple(passages),
        tuple(queries),
        MappingProxyType(gold),
        MappingProxyType(answers),
        tuple(structure),
    )


def _first_mismatch(ref: _Parsed, other: _Parsed) -> str | None:
    """A description of the first structural difference between two parsed files, if any."""
    if len(ref.structure) != len(other.structure):
        return f"{len(other.structure)} articles, expected {len(ref.structure)}"
    for ai, (ra, oa) in enumerate(zip(ref.structure, other.structure, strict=True)):
        if len(ra) != len(oa):
            return f"article {ai} has {len(oa)} paragraphs, expected {len(ra)}"
        for pi, (rp, op) in enumerate(zip(ra, oa, strict=True)):
            if len(rp) != len(op):
                return f"paragraph {passage_id(ai, pi)} has {len(op)} questions, expected {len(rp)}"
            for qi, (rq, oq) in enumerate(zip(rp, op, strict=True)):
                if rq != oq:
                    return (
                        f"paragraph {passage_id(ai, pi)} question {qi} has id {oq!r}, "
                        f"expected {rq!r}"
                    )
    return None


class XQuAD:
    """Lazy, cached access to the languages of one XQuAD folder (see the module notes).

    Build it with :func:`load_xquad`. Thread-safe: a language is parsed once even when
    several threads ask for it.
    """

    def __init__(self, folder: Path, files: Mapping[str, Path], langs: tuple[str, ...]) -> None:
        self.folder = folder
        self._files = dict(files)
        self.langs = langs
        self.available: tuple[str, ...] = tuple(sorted(files))
        self.reference = "en" if "en" in files else self.available[0]
        self._cache: dict[str, _Parsed] = {}
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"XQuAD({str(self.folder)!r}, langs={self.langs})"

    def _check_lang(self, lang: str) -> str:
        if lang not in self.langs:
            raise DataError(
                f"language {lang!r} is not loaded from {self.folder} "
                f"(loaded: {', '.join(self.langs)})"
            )
        return lang

    def _get(self, lang: str) -> _Parsed:
        with self._lock:
            parsed = self._cache.get(lang)
            if parsed is not None:
                return parsed
            parsed = _parse(self._files[lang], lang)
            if lang != self.reference:
                ref = self._get(self.reference)
                mismatch = _first_mismatch(ref, parsed)
                if mismatch:
                    raise DataError(
                        f"{self._files[lang].name} is not parallel to "
                        f"{self._files[self.reference].name}: {mismatch}"
                    )
            self._cache[lang] = parsed
            return parsed

    def queries(self, lang: str) -> tuple[Query, ...]:
        """The questions in ``lang``, in file order."""
        return self._get(self._check_lang(lang)).queries

    def passages(self, lang: str) -> tuple[Passage, ...]:
        """The paragraphs in ``lang``, in file order (titles only for English)."""
        return self._get(self._check_lang(lang)).passages

    def answers(self, lang: str) -> Mapping[str, tuple[Answer, ...]]:
        """Gold answer spans in ``lang``'s paragraphs, per question id."""
        return self._get(self._check_lang(lang)).answers

    def qrels(self, query_lang: str, doc_lang: str) -> Qrels:
        """Each question of ``query_lang`` relevant to the same paragraph in ``doc_lang``."""
        gold = self._get(self._check_lang(query_lang)).gold
        self._get(self._check_lang(doc_lang))  # validates the corpus side exists and is parallel
        return Qrels({qid: {pid: RELEVANT} for qid, pid in gold.items()})

    def task(self, query_lang: str, doc_lang: str) -> RetrievalTask:
        """The retrieval task ``query_lang``→``doc_lang``: answers are the spans in the
        document language; ``parallel`` holds the English question per query id (empty when
        the folder has no English file)."""
        parallel: Mapping[str, Query] = {}
        if "en" in self._files:
            parallel = {q.id: q for q in self._get("en").queries}
        return RetrievalTask(
            name=f"xquad/{query_lang}-{doc_lang}",
            query_lang=query_lang,
            doc_lang=doc_lang,
            queries=self.queries(query_lang),
            corpus=self.passages(doc_lang),
            qrels=self.qrels(query_lang, doc_lang),
            answers=self.answers(doc_lang),
            parallel=MappingProxyType(parallel),
        )

    def fingerprint(self, lang: str) -> str:
        """sha256 (hex) of ``lang``'s file bytes."""
        return self._get(self._check_lang(lang)).fingerprint


def _normalise_lang(lang: str) -> str:
    code = lang.strip().lower()
    if not LANG_CODE.match(code):
        raise DataError(f"invalid language code {lang!r} (expected e.g. 'th' or 'en')")
    return code


def load_xquad(folder: str | os.PathLike[str], langs: Iterable[str] | None = None) -> XQuAD:
    """Open an XQuAD folder; ``langs`` selects languages (default: every file found).

    Only the folder listing is read here; files are parsed on first use.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"XQuAD folder not found: {path}")
    files = {
        m.group(1): p
        for p in sorted(path.iterdir())
        if (m := _FILE_RE.match(p.name)) and p.is_file()
    }
    if not files:
        raise DataError(f"no xquad.<lang>.json files in {path}")
    if langs is None:
        selected = tuple(sorted(files))
    else:
        selected = tuple(dict.fromkeys(_normalise_lang(x) for x in langs))
        if not selected:
            raise DataError("no XQuAD languages requested")
        for lang in selected:
            if lang not in files:
                raise DataError(
                    f"language {lang!r} not in {path} (available: {', '.join(sorted(files))})"
                )
    return XQuAD(path, files, selected)

"""XQuAD loader: the real release (CLIRLENS_XQUAD) and malformed small copies in tmp_path."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from clirlens.core.data.xquad import LOW_RESOURCE, XQUAD_LANGS, load_xquad, passage_id
from clirlens.core.errors import DataError
from clirlens.core.types import RetrievalTask

# ------------------------------------------------------------------ the real release


@pytest.fixture(scope="module")
def xquad(xquad_dir: Path):
    return load_xquad(xquad_dir)


@pytest.mark.xquad
def test_all_languages_found(xquad) -> None:
    assert xquad.langs == XQUAD_LANGS
    assert set(LOW_RESOURCE) <= set(xquad.langs)
    assert LOW_RESOURCE == ("el", "hi", "ro", "th", "tr")


@pytest.mark.xquad
@pytest.mark.parametrize("lang", XQUAD_LANGS)
def test_sizes_ids_and_answer_spans(xquad, lang: str) -> None:
    passages, queries = xquad.passages(lang), xquad.queries(lang)
    assert len(passages) == 240
    assert len(queries) == 1190
    assert len({p.id.split("-")[0] for p in passages}) == 48
    # the same ids, in the same order, as English
    assert [p.id for p in passages] == [p.id for p in xquad.passages("en")]
    assert [q.id for q in queries] == [q.id for q in xquad.queries("en")]
    assert all(p.lang == lang and q.lang == lang for p, q in zip(passages, queries, strict=False))
    assert not any(p.text.startswith("\ufeff") for p in passages)
    # every gold answer is exactly the passage text at its offsets
    by_id = {p.id: p for p in passages}
    gold = xquad.qrels(lang, lang)
    answers = xquad.answers(lang)
    assert set(answers) == {q.id for q in queries}
    for q in queries:
        (pid,) = gold.relevant(q.id)
        for a in answers[q.id]:
            assert by_id[pid].text[a.start : a.end] == a.text


@pytest.mark.xquad
def test_titles_only_in_english_title_field(xquad, xquad_dir: Path) -> None:
    en = xquad.passages("en")
    assert en[0].title == "Super Bowl 50"
    assert all(p.title and "_" not in p.title for p in en)
    raw = json.loads((xquad_dir / "xquad.en.json").read_text(encoding="utf-8"))
    contexts = [para["context"] for art in raw["data"] for para in art["paragraphs"]]
    assert [p.text for p in en] == contexts  # the title is never joined into the text
    for lang in ("th", "hi", "zh"):
        assert all(p.title is None for p in xquad.passages(lang))


@pytest.mark.xquad
def test_th_en_qrels_match_raw_structure(xquad, xquad_dir: Path) -> None:
    """Each Thai question is relevant to exactly one English paragraph, the one with the
    same (article, paragraph) position, recomputed here from the raw JSON."""
    raw = json.loads((xquad_dir / "xquad.th.json").read_text(encoding="utf-8"))
    expected = {
        qa["id"]: passage_id(ai, pi)
        for ai, art in enumerate(raw["data"])
        for pi, para in enumerate(art["paragraphs"])
        for qa in para["qas"]
    }
    qrels = xquad.qrels("th", "en")
    assert len(expected) == 1190
    assert set(qrels.query_ids) == set(expected)
    en_ids = {p.id for p in xquad.passages("en")}
    for qid, pid in expected.items():
        assert dict(qrels.data[qid]) == {pid: 1}
        assert pid in en_ids


@pytest.mark.xquad
def test_task_th_en(xquad) -> None:
    task = xquad.task("th", "en")
    assert isinstance(task, RetrievalTask)
    assert (task.name, task.query_lang, task.doc_lang) == ("xquad/th-en", "th", "en")
    assert len(task.queries) == 1190 and len(task.corpus) == 240 and len(task.qrels) == 1190
    q = task.queries[0]
    assert q.id == "56beb4343aeaaa14008c925b"
    assert task.parallel[q.id].text == "How many points did the Panthers defense surrender?"
    assert task.parallel[q.id].lang == "en"
    # answers are in the document language (English here), found in the gold English passage
    (pid,) = task.qrels.relevant(q.id)
    (a,) = task.answers[q.id]
    assert a.text == "308" and task.passage(pid).text[a.start : a.end] == "308"
    reverse = xquad.task("en", "th")
    (a_th,) = reverse.answers[q.id]
    assert reverse.passage(pid).text[a_th.start : a_th.end] == a_th.text
    assert reverse.passage(pid).lang == "th"


@pytest.mark.xquad
def test_fingerprint_and_cache(xquad, xquad_dir: Path) -> None:
    digest = hashlib.sha256((xquad_dir / "xquad.th.json").read_bytes()).hexdigest()
    assert xquad.fingerprint("th") == digest
    assert xquad.passages("th") is xquad.passages("th")
    assert xquad.fingerprint("en") != digest


@pytest.mark.xquad
def test_selected_languages(xquad_dir: Path) -> None:
    x = load_xquad(xquad_dir, ["TH", " en", "th"])
    assert x.langs == ("th", "en")
    with pytest.raises(DataError, match=r"'hi' is not loaded .* \(loaded: th, en\)"):
        x.passages("hi")


@pytest.mark.xquad
def test_truncated_real_file_reports_line_and_column(xquad_dir: Path, tmp_path: Path) -> None:
    for lang in ("en", "th"):
        (tmp_path / f"xquad.{lang}.json").write_bytes(
            (xquad_dir / f"xquad.{lang}.json").read_bytes()
        )
    text = (tmp_path / "xquad.th.json").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    broken = next(i for i in range(200, len(lines)) if '"question"' in lines[i])
    lines[broken] = lines[broken].replace('"', "", 1)  # drop the key's opening quote
    (tmp_path / "xquad.th.json").write_text("".join(lines), encoding="utf-8")
    x = load_xquad(tmp_path)
    assert len(x.passages("en")) == 240  # the broken file is not read until asked for
    with pytest.raises(
        DataError,
        match=rf"xquad\.th\.json: invalid JSON at line {broken + 1}, "
        r"column \d+",
    ):
        x.queries("th")


# ------------------------------------------------------------------ small synthetic files


def _squad(lang: str = "en") -> dict:
    """Two articles, three paragraphs, four questions; parallel across ``lang``."""

    def para(ctx: str, qas: list[tuple[str, str, str]]) -> dict:
        return {
            "context": ctx,
            "qas": [
                {
                    "id": qid,
                    "question": f"{lang}:{q}?",
                    "answers": [{"text": ans, "answer_start": ctx.index(ans)}],
                }
                for qid, q, ans in qas
            ],
        }

    return {
        "version": "1.1",
        "data": [
            {
                "title": "First_Article",
                "paragraphs": [
                    para(
                        f"[{lang}] Alpha beta gamma.",
                        [("q1", "what", "beta"), ("q2", "which", "gamma")],
                    ),
                    para(f"[{lang}] Delta epsilon.", [("q3", "who", "Delta")]),
                ],
            },
            {
                "title": "Second",
                "paragraphs": [para(f"[{lang}] Zeta eta.", [("q4", "how", "eta")])],
            },
        ],
    }


def _write(folder: Path, lang: str, doc: dict | str) -> Path:
    path = folder / f"xquad.{lang}.json"
    path.write_text(
        doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), encoding="utf-8"
    )
    return path


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    for lang in ("en", "th", "de"):
        _write(tmp_path, lang, _squad(lang))
    return tmp_path


def test_small_folder_ids_qrels_and_task(small: Path) -> None:
    x = load_xquad(small)
    assert x.langs == ("de", "en", "th")
    assert [p.id for p in x.passages("th")] == ["a000-p00", "a000-p01", "a001-p00"]
    assert [p.title for p in x.passages("en")] == ["First Article"] * 2 + ["Second"]
    assert dict(x.qrels("th", "de").data) == {
        "q1": {"a000-p00": 1},
        "q2": {"a000-p00": 1},
        "q3": {"a000-p01": 1},
        "q4": {"a001-p00": 1},
    }
    task = x.task("th", "de")
    assert task.parallel["q3"].text == "en:who?"
    assert task.answers["q4"][0].start == task.passage("a001-p00").text.index("eta")


def test_leading_bom_is_removed_and_offsets_shifted(tmp_path: Path) -> None:
    doc = _squad("en")
    para = doc["data"][0]["paragraphs"][0]
    para["context"] = "\ufeff" + para["context"]
    for qa in para["qas"]:
        qa["answers"][0]["answer_start"] += 1
    _write(tmp_path, "en", doc)
    x = load_xquad(tmp_path)
    p = x.passages("en")[0]
    assert p.text == "[en] Alpha beta gamma."
    a = x.answers("en")["q1"][0]
    assert p.text[a.start : a.end] == "beta"


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"XQuAD folder not found: .*nope"):
        load_xquad(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=r"no xquad\.<lang>\.json files in"):
        load_xquad(tmp_path)


def test_language_errors(small: Path) -> None:
    with pytest.raises(DataError, match=r"language 'hi' not in .* \(available: de, en, th\)"):
        load_xquad(small, ["th", "hi"])
    with pytest.raises(DataError, match=r"invalid language code 'thai!'"):
        load_xquad(small, ["thai!"])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("data"), r"xquad\.th\.json: top level: missing key 'data'"),
        (
            lambda d: d["data"][0]["paragraphs"][1].pop("context"),
            r"xquad\.th\.json: data\[0\]\.paragraphs\[1\]: missing key 'context'",
        ),
        (
            lambda d: d["data"][1].__setitem__("paragraphs", {}),
            r"xquad\.th\.json: data\[1\]\.paragraphs is a dict, expected a list",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][1]["answers"][0].__setitem__(
                "answer_start", "3"
            ),
            r"data\[0\]\.paragraphs\[0\]\.qas\[1\]\.answers\[0\]\.answer_start is a str, expected int",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][0]["answers"][0].__setitem__(
                "answer_start", 2
            ),
            r"qas\[0\]\.answers\[0\] \(question q1\): answer 'beta' is not at offset 2",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][1]["qas"][0].__setitem__("id", "q1"),
            r"data\[0\]\.paragraphs\[1\]\.qas\[0\]: question id 'q1' appears twice",
        ),
    ],
)
def test_structure_errors(small: Path, mutate, message: str) -> None:
    doc = copy.deepcopy(_squad("th"))
    mutate(doc)
    _write(small, "th", doc)
    x = load_xquad(small)
    assert len(x.queries("de")) == 4
    with pytest.raises(DataError, match=message):
        x.queries("th")


def test_bad_json_names_file_line_and_column(small: Path) -> None:
    _write(small, "th", '{"data": [\n  {"title": "x",\n   "paragraphs": [}\n]}')
    with pytest.raises(DataError, match=r"xquad\.th\.json: invalid JSON at line 3, column 19"):
        load_xquad(small).passages("th")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["data"].pop(), r"1 articles, expected 2"),
        (lambda d: d["data"][0]["paragraphs"].pop(), r"article 0 has 1 paragraphs, expected 2"),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"].pop(),
            r"paragraph a000-p00 has 1 questions, expected 2",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0].__setitem__("id", "q9"),
            r"paragraph a001-p00 question 0 has id 'q9', expected 'q4'",
        ),
    ],
)
def test_not_parallel(small: Path, mutate, message: str) -> None:
    doc = copy.deepcopy(_squad("th"))
    mutate(doc)
    _write(small, "th", doc)
    x = load_xquad(small)
    with pytest.raises(
        DataError, match=r"xquad\.th\.json is not parallel to xquad\.en\.json: " + message
    ):
        x.task("th", "en")


def test_reference_is_first_language_without_english(tmp_path: Path) -> None:
    _write(tmp_path, "de", _squad("de"))
    doc = _squad("th")
    doc["data"][0]["paragraphs"].pop()
    _write(tmp_path, "th", doc)
    x = load_xquad(tmp_path)
    assert x.reference == "de"
    assert x.task("de", "de").parallel == {}
    with pytest.raises(DataError, match=r"xquad\.th\.json is not parallel to xquad\.de\.json"):
        x.passages("th")

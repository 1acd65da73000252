"""Bitext sources: XQuAD split by article, user files; bad input is one line naming the file
and the line."""

from __future__ import annotations

import pytest

from clirlens.core.data.xquad import load_xquad
from clirlens.core.distill.bitext import parse_articles, read_bitext, xquad_bitext
from clirlens.core.distill.heldout import xquad_heldout
from clirlens.core.errors import DataError, UserError


def test_articles_parse_as_ranges():
    assert parse_articles("0-3") == {0, 1, 2, 3}
    assert parse_articles("0-1, 5,7-8") == {0, 1, 5, 7, 8}
    for bad in ("a-b", "3-1", ""):
        with pytest.raises(UserError, match="articles"):
            parse_articles(bad)


@pytest.mark.xquad
def test_xquad_bitext_and_heldout_never_share_an_article(xquad_dir):
    xq = load_xquad(xquad_dir, ["th", "en"])
    train = parse_articles("0-31")
    bitext = xquad_bitext(xq, "th", train)
    held = xquad_heldout(xq, "th", train)
    assert len(bitext) + len(held.queries) == 1190
    assert not {p.id for p in bitext.pairs} & {q.id for q in held.queries}
    assert len(held.corpus) == 240 and len(held.parallel) == len(held.queries)
    english = {q.id: q.text for q in xq.queries("en")}
    assert all(english[p.id] == p.target for p in bitext.pairs)
    assert "articles 0-31" in bitext.origin and "articles 32-47" in held.origin
    with pytest.raises(UserError, match="no XQuAD question of articles 90"):
        xquad_bitext(xq, "th", {90})


def test_user_bitext_formats(tmp_path):
    tsv = tmp_path / "b.tsv"
    tsv.write_text("ทีม\tteam\n\nแมว  นั่ง\tthe cat sat\n", encoding="utf-8")
    assert [(p.source, p.target) for p in read_bitext(tsv).pairs] == [
        ("ทีม", "team"), ("แมว นั่ง", "the cat sat"),
    ]  # fmt: skip
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text('{"source": "ก", "target": "a"}\n{"src": "ข", "tgt": "b"}\n', "utf-8")
    assert len(read_bitext(jsonl)) == 2
    (tmp_path / "c.th").write_text("ก\nข\n", "utf-8")
    (tmp_path / "c.en").write_text("a\nb\n", "utf-8")
    moses = read_bitext(f"{tmp_path / 'c.th'},{tmp_path / 'c.en'}")
    assert [p.target for p in moses.pairs] == ["a", "b"]
    assert moses.hash == read_bitext(jsonl).hash  # the same pairs, whatever the format


@pytest.mark.faults
@pytest.mark.parametrize(
    "name, text, fragment",
    [
        ("a.tsv", "ok\tfine\nno tab here\n", "a.tsv, line 2: expected source<TAB>target"),
        ("b.tsv", "x\t \n", "b.tsv, line 1: the target side is empty"),
        ("c.jsonl", '{"source": "x", "target": "y"}\n{broken\n', "c.jsonl, line 2: not JSON"),
        ("d.tsv", "\n\n", "d.tsv: no bitext pairs"),
    ],
)
def test_bad_bitext_is_one_line_naming_file_and_line(tmp_path, name, text, fragment):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises((DataError, UserError)) as info:
        read_bitext(tmp_path / name)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.faults
def test_parallel_files_of_different_lengths_and_missing_files(tmp_path):
    (tmp_path / "x.th").write_text("ก\nข\n", "utf-8")
    (tmp_path / "x.en").write_text("a\n", "utf-8")
    with pytest.raises(DataError, match=r"x\.th has 2 lines but .*x\.en has 1"):
        read_bitext(f"{tmp_path / 'x.th'},{tmp_path / 'x.en'}")
    with pytest.raises(UserError, match="bitext file not found"):
        read_bitext(tmp_path / "nope.tsv")

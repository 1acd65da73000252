"""TREC qrels import/export: every bad line reported by number, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from clirlens.core.data.trec import QrelsError
from clirlens.core.errors import DataError
from clirlens.storage.exchange import export_qrels, import_qrels_file
from clirlens.storage.records import Campaign
from clirlens.storage.repository import JudgmentRepository


def test_import_creates_the_campaign_and_exports_back(repo: JudgmentRepository, tmp_path: Path):
    f = tmp_path / "a.qrels"
    f.write_text("# a comment\nq1 0 d1 2\nq1 0 d2 0\n\nq2 Q0 d1 3\n")
    s = import_qrels_file(repo, f, "imported", "alice")
    assert (s.created_campaign, s.added, s.changed, s.unchanged) == (True, 3, 0, 0)
    c = repo.campaign("imported")
    assert (c.size, c.depth, c.blind) == (3, 0, False)
    assert export_qrels(repo, "imported", "alice") == "q1 0 d1 2\nq1 0 d2 0\nq2 0 d1 3\n"
    f.write_text("q1 0 d1 1\nq1 0 d2 0\n")
    s = import_qrels_file(repo, f, "imported", "alice")
    assert (s.created_campaign, s.added, s.changed, s.unchanged) == (False, 0, 1, 1)
    assert [h.action for h in repo.history("imported")] == ["import"] * 4
    assert repo.qrels("imported", annotator="alice").grade("q1", "d1") == 1


def test_bad_file_writes_nothing(repo: JudgmentRepository, tmp_path: Path):
    f = tmp_path / "bad.qrels"
    f.write_text("q1 0 d1 2\nq1 0 d2 7\n")
    with pytest.raises(QrelsError, match="line 2: grade 7 is out of range"):
        import_qrels_file(repo, f, "new", "alice")
    assert repo.campaigns() == ()
    with pytest.raises(DataError, match="no such qrels file"):
        import_qrels_file(repo, tmp_path / "missing.qrels", "new", "alice")
    f.write_bytes(b"q1 0 d1 2\nq1 0 d\xe9 1\n")
    with pytest.raises(QrelsError, match="line 2: not UTF-8"):
        import_qrels_file(repo, f, "new", "alice")
    f.write_text("# only a comment\n")
    with pytest.raises(DataError, match="no judgments"):
        import_qrels_file(repo, f, "new", "alice")
    assert repo.campaigns() == ()


def test_pairs_outside_an_existing_pool_are_bad_lines(
    repo: JudgmentRepository, campaign: Campaign, tmp_path: Path
):
    first, second = repo.items(campaign.name)[:2]
    f = tmp_path / "x.qrels"
    f.write_text(
        f"{first.query.id} 0 {first.passage_id} 3\n"
        f"{second.query.id} 0 nowhere 1\n"
        f"{second.query.id} 0 {second.passage_id} 2\n"
    )
    with pytest.raises(QrelsError, match="line 2: query q0 passage nowhere is not in the pool"):
        import_qrels_file(repo, f, campaign.name, "alice")
    assert repo.judgments(campaign.name) == () and repo.annotators() == ()


def test_export_aggregates_annotators(repo: JudgmentRepository, tmp_path: Path):
    grades = {"a": [3, 1, 0], "b": [3, 2, 1], "c": [1, 2, 2]}
    for who, gs in grades.items():
        f = tmp_path / f"{who}.qrels"
        f.write_text("".join(f"q 0 d{i} {g}\n" for i, g in enumerate(gs)))
        import_qrels_file(repo, f, "agg", who)
    # majority: d0 3 (two 3s), d1 tie 1/2/2 -> 2, d2 0/1/2 all tied -> lowest 0
    assert export_qrels(repo, "agg") == "q 0 d0 3\nq 0 d1 2\nq 0 d2 0\n"
    # mean >= 2: d0 7/3 yes, d1 5/3 no, d2 1 no
    assert export_qrels(repo, "agg", method="mean") == "q 0 d0 1\nq 0 d1 0\nq 0 d2 0\n"
    assert export_qrels(repo, "agg", method="mean", threshold=1.5) == (
        "q 0 d0 1\nq 0 d1 1\nq 0 d2 0\n"
    )

"""The judging session over a real SQLite repository: where an annotator resumes, blind
sources, progress, per-direction qrels."""

from __future__ import annotations

import pytest

from clirlens.core.types import Passage, Query, Run
from clirlens.storage.judging import JudgingSession, human_qrels_by_direction
from clirlens.storage.repository import JudgmentRepository

QUERIES = tuple(Query(f"q{i}", f"question {i}?", "th") for i in range(3))
PASSAGES = {f"p{i}": Passage(f"p{i}", f"passage text {i}", "en") for i in range(8)}


def _run(name: str, shift: int) -> Run:
    return Run.from_scores(
        name,
        {
            q.id: {f"p{(i + j + shift) % 8}": 1.0 - j / 10 for j in range(3)}
            for i, q in enumerate(QUERIES)
        },
    )


@pytest.fixture
def repo(tmp_path):
    with JudgmentRepository.open(tmp_path / "judgments.sqlite") as r:
        r.create_campaign(
            "pilot", [_run("A", 0), _run("B", 1)], QUERIES, PASSAGES, depth=3, blind=True
        )
        yield r


def _open(repo, who="alice") -> JudgingSession:
    return JudgingSession.open(repo, "pilot", who)


def test_resume_position_follows_the_last_action(repo) -> None:
    s = _open(repo)
    n = len(s.items)
    assert n == 12 and s.position == 0  # 3 queries x 4 passages (two runs of 3, offset 1)
    for pos in (0, 1, 3):  # item 2 skipped
        s.apply(repo.change(s.items[pos].id, "alice", 2))
    assert _open(repo).position == 4  # right after the last judged item
    repo.undo_last("pilot", "alice")  # item 3 is unjudged again: resume on it
    assert _open(repo).position == 3
    s = _open(repo)
    s.apply(repo.change(s.items[n - 1].id, "alice", 0))  # the last item: wrap to the skipped one
    assert _open(repo).position == 2
    repo.clear(s.items[1].id, "alice")
    assert _open(repo).position == 1
    assert _open(repo, "bob").position == 0  # another annotator starts at the beginning


def test_navigation_skip_advance_and_progress(repo) -> None:
    s = _open(repo)
    s.apply(repo.change(s.items[1].id, "alice", 3))
    assert s.judged == 1 and not s.done
    assert s.skip() and s.position == 2  # 1 is judged: skipped over
    assert s.move(-2) and s.position == 0
    assert not s.move(-1) and s.position == 0
    qp = s.query_progress()
    assert (qp.number, qp.queries, qp.judged, qp.items, qp.place) == (1, 3, 1, 4, 1)
    s.goto(5)
    assert s.query_progress().number == 2 and s.query_progress().place == 2
    s.goto(0)
    assert s.advance() and s.position == 2
    assert s.grade_table() == {("th", "en", s.items[1].query.id, s.items[1].passage_id): 3}


def test_blind_sources_appear_once_judged_and_vanish_on_undo(repo) -> None:
    s = _open(repo)
    item = s.items[0]
    assert item.blinded and item.sources == ()
    s.apply(repo.change(item.id, "alice", 1))
    assert not s.items[0].blinded and {x.model for x in s.items[0].sources} <= {"A", "B"}
    assert s.items[0].sources
    s.apply(repo.undo_last("pilot", "alice"))
    assert s.items[0].blinded and s.items[0].sources == ()
    assert s.judgment(item.id) is None


def test_human_qrels_per_direction(repo) -> None:
    s = _open(repo)
    for who, grades in (("alice", (3, 0, 2)), ("bob", (3, 1, 0)), ("carol", (2, 0, 0))):
        for pos, g in enumerate(grades):
            repo.judge(s.items[pos].id, who, g)
    qrels = human_qrels_by_direction(repo, "pilot")
    assert list(qrels) == [("th", "en")]
    q = qrels[("th", "en")]
    ids = [s.items[i].passage_id for i in range(3)]
    assert [q.grade("q0", pid) for pid in ids] == [3, 0, 0]  # majority, ties to the lower
    alice = human_qrels_by_direction(repo, "pilot", annotator="alice")[("th", "en")]
    assert [alice.grade("q0", pid) for pid in ids] == [3, 0, 2]

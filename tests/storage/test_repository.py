"""Campaigns, pools, judging, progress and bad input, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from clirlens.core.errors import DataError, UserError
from clirlens.core.types import Passage, Query, Run
from clirlens.storage.commands import JudgeCommand
from clirlens.storage.pool import build_pool, text_hash
from clirlens.storage.records import Campaign, Source
from clirlens.storage.repository import JudgmentRepository

from .conftest import PASSAGES, QUERIES, make_runs


def test_pool_is_the_union_of_top_k_without_duplicates(repo: JudgmentRepository, campaign):
    runs = make_runs()
    items = repo.items(campaign.name, "nobody")
    assert campaign.size == len(items)
    assert [it.position for it in items] == list(range(len(items)))
    for q in QUERIES:
        mine = [it for it in items if it.query.id == q.id]
        expected = {sp.passage_id for r in runs for sp in r.top(q.id, 3)}
        assert sorted(it.passage_id for it in mine) == sorted(expected)  # union, each once
        assert all(it.query == q for it in mine)
    # grouped by query, in the order the queries were given
    seen = [it.query.id for it in items]
    assert sorted(set(seen), key=seen.index) == [q.id for q in QUERIES]
    # blind: nobody sees the sources before judging; the stored sources are right
    assert all(it.blinded and it.sources == () for it in items)
    by_id = {it.id: it for it in items}
    for it in items:
        repo.judge(it.id, "alice", 1)
    for it in repo.items(campaign.name, "alice"):
        assert not it.blinded
        expected = sorted(
            (
                Source(r.name, r.rank_of(it.query.id, it.passage_id))
                for r in runs
                if (r.rank_of(it.query.id, it.passage_id) or 99) <= 3
            ),
            key=lambda s: (s.rank, s.model),
        )
        assert list(it.sources) == expected
        assert it.passage_hash == text_hash(f"passage text {it.passage_id[1:]}")
        assert by_id[it.id].position == it.position


def test_pool_order_is_seeded_and_deterministic():
    runs = make_runs()
    passages = {p.id: p for p in PASSAGES}

    def order(seed: int) -> list[tuple[str, str]]:
        return [(e.query.id, e.passage_id) for e in build_pool(runs, QUERIES, passages, 4, seed)]

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == sorted(order(2))
    # adding a query does not reshuffle the others
    extra = (*QUERIES, Query("q9", "extra?", "th"))
    runs9 = [Run(r.name, {**r.rankings, "q9": r.rankings["q0"]}) for r in runs]
    longer = [(e.query.id, e.passage_id) for e in build_pool(runs9, extra, passages, 4, 1)]
    assert longer[: len(order(1))] == order(1)


def test_campaign_records(repo: JudgmentRepository, campaign: Campaign):
    assert campaign.models == ("webfaq", "tydi")
    assert campaign.directions == ("th-en",) and campaign.dataset == "xquad"
    assert (campaign.depth, campaign.blind, campaign.seed) == (3, True, 7)
    assert campaign.created_at.tzinfo == timezone.utc
    assert repo.campaign("pilot") == campaign
    assert repo.campaigns() == (campaign,)


def test_next_item_judge_and_rejudge(repo: JudgmentRepository, campaign: Campaign):
    first = repo.next_item(campaign.name, "alice")
    assert first is not None and first.position == 0
    j = repo.judge(first.id, "alice", 2, note="close", seconds_spent=3.5)
    assert (j.grade, j.note, j.seconds_spent, j.annotator, j.campaign) == (
        2,
        "close",
        3.5,
        "alice",
        "pilot",
    )
    assert (j.query_id, j.passage_id) == (first.query.id, first.passage_id)
    assert j.created_at == j.updated_at and j.created_at.tzinfo == timezone.utc
    second = repo.next_item(campaign.name, "alice")
    assert second is not None and second.position == 1
    assert repo.next_item(campaign.name, "bob").position == 0  # others are independent
    assert repo.next_item(campaign.name, "alice", after=5).position == 6

    again = repo.judge(first.id, "alice", 3, seconds_spent=1.5)  # note kept, time added
    assert (again.id, again.grade, again.note, again.seconds_spent) == (j.id, 3, "close", 5.0)
    assert again.created_at == j.created_at and again.updated_at > j.updated_at
    cleared = repo.judge(first.id, "alice", 3, note="")
    assert cleared.note is None
    assert repo.judgment(first.id, "alice") == cleared
    assert repo.judgment(first.id, "bob") is None

    for it in repo.items(campaign.name):
        repo.judge(it.id, "alice", 0)
    assert repo.next_item(campaign.name, "alice") is None
    assert len(repo.judgments(campaign.name, "alice")) == campaign.size


def test_progress_and_listing(repo: JudgmentRepository, campaign: Campaign):
    items = repo.items(campaign.name)
    for it in items[:6]:
        repo.judge(it.id, "alice", it.position % 4, seconds_spent=2)
    for it in items[4:9]:
        repo.judge(it.id, "bob", 1)
    p = repo.progress(campaign.name, annotator="carol")
    assert (p.total, p.judged_by_any, p.judged_by_all) == (campaign.size, 9, 2)
    alice, bob, carol = p.annotators
    assert (alice.annotator, alice.judged, alice.grades, alice.seconds_spent) == (
        "alice",
        6,
        (2, 2, 1, 1),
        12.0,
    )
    assert (bob.judged, bob.grades, bob.seconds_spent) == (5, (0, 5, 0, 0), 0.0)
    assert (carol.judged, carol.fraction) == (0, 0.0)
    listed = repo.judgments(campaign.name)
    assert len(listed) == 11
    positions = [
        (next(i.position for i in items if i.id == j.item_id), j.annotator) for j in listed
    ]
    assert positions == sorted(positions)
    assert repo.annotators(campaign.name) == ("alice", "bob")


def test_bad_grades_write_nothing(repo: JudgmentRepository, campaign: Campaign):
    item = repo.next_item(campaign.name, "alice")
    for grade in (4, -1, 2.5, "2", True, None):
        with pytest.raises(UserError, match=f"grade {grade!r} is out of range"):
            repo.judge(item.id, "alice", grade)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="grade 7 is out of range"):
        JudgeCommand(repo, item.id, "alice", 7).do()
    assert repo.judgments(campaign.name) == () and repo.history(campaign.name) == ()


def test_bad_input_is_refused_clearly(repo: JudgmentRepository, campaign: Campaign):
    item = repo.next_item(campaign.name, "alice")
    with pytest.raises(UserError, match=r"unknown campaign 'nope'.*pilot"):
        repo.next_item("nope", "alice")
    with pytest.raises(UserError, match="no pooled item with id 99999"):
        repo.judge(99999, "alice", 1)
    with pytest.raises(UserError, match="annotator name"):
        repo.judge(item.id, " ", 1)
    with pytest.raises(UserError, match="seconds"):
        repo.judge(item.id, "alice", 1, seconds_spent=-3)
    with pytest.raises(UserError, match="nothing to clear"):
        repo.clear(item.id, "alice")
    with pytest.raises(UserError, match="already exists"):
        repo.create_campaign("pilot", make_runs(), QUERIES, PASSAGES)
    with pytest.raises(DataError, match="passage p"):
        repo.create_campaign("other", make_runs(), QUERIES, PASSAGES[:2])
    with pytest.raises(UserError, match="depth"):
        repo.create_campaign("other", make_runs(), QUERIES, PASSAGES, depth=0)
    with pytest.raises(UserError, match="run names"):
        repo.create_campaign("other", make_runs() * 2, QUERIES, PASSAGES)
    assert [c.name for c in repo.campaigns()] == ["pilot"]
    assert repo.judgments(campaign.name) == () and repo.history(campaign.name) == ()


def test_schema_checks_grades_and_keeps_history_append_only(
    repo: JudgmentRepository, campaign: Campaign
):
    item = repo.next_item(campaign.name, "alice")
    repo.judge(item.id, "alice", 1)
    with pytest.raises(IntegrityError), repo.engine.begin() as conn:
        conn.execute(text("UPDATE judgments SET grade = 4"))
    with pytest.raises(IntegrityError), repo.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO judgments (annotator_id, item_id, grade, created_at, updated_at) "
                "SELECT annotator_id, item_id, 2, created_at, updated_at FROM judgments"
            )
        )  # a second judgment of the same item by the same annotator
    for stmt in ("UPDATE judgment_history SET new_grade = 0", "DELETE FROM judgment_history"):
        with pytest.raises(DBAPIError, match="append-only"), repo.engine.begin() as conn:
            conn.execute(text(stmt))
    assert [h.new.grade for h in repo.history(campaign.name)] == [1]


def test_passage_mapping_and_sequences_are_accepted(repo: JudgmentRepository):
    runs = [Run.from_scores("m", {"a": {"x": 1.0, "y": 0.5}})]
    c = repo.create_campaign(
        "tiny",
        runs,
        {"a": Query("a", "A?", "el")},
        {"x": Passage("x", "X", "en"), "y": Passage("y", "Y", "en")},
        depth=1,
        blind=False,
    )
    (only,) = repo.items(c.name)
    assert (only.passage_id, only.blinded, only.sources) == ("x", False, (Source("m", 1),))


def test_a_value_too_long_for_an_index_is_one_line_and_changes_nothing(pg_url):
    """PostgreSQL's b-tree index rows hold at most ~2.7 kB: a longer campaign name is refused
    by the server, and that refusal is one line naming the database; nothing is written."""
    with JudgmentRepository.open(pg_url) as repo:
        before = repo.campaigns()
        import random
        import string

        rng = random.Random(0)  # incompressible: the server compresses long index keys
        name = "".join(rng.choice(string.ascii_letters) for _ in range(9000))
        run = Run.from_scores("m", {"q0": {"d0": 1.0, "d1": 0.5}})
        query = Query("q0", "question", "th")
        passages = {f"d{i}": Passage(f"d{i}", f"text {i}", "en") for i in range(2)}
        with pytest.raises(UserError) as info:
            repo.create_campaign(name, [run], [query], passages, depth=2)
        assert "\n" not in str(info.value) and "refused" in str(info.value)
        assert repo.campaigns() == before

"""Undo: commands restore the exact previous state; undo_last walks the history back."""

from __future__ import annotations

import pytest

from clirlens.core.errors import UserError
from clirlens.storage.commands import ClearJudgmentCommand, JudgeCommand
from clirlens.storage.records import Campaign
from clirlens.storage.repository import JudgmentRepository


def _state(repo: JudgmentRepository, item_id: int, who: str = "alice"):
    j = repo.judgment(item_id, who)
    return None if j is None else j.state


def test_judge_command_from_nothing_and_back(repo: JudgmentRepository, campaign: Campaign):
    item = repo.next_item(campaign.name, "alice")
    cmd = JudgeCommand(repo, item.id, "alice", 3, note="answers it", seconds_spent=4.0)
    assert "answers the question" in cmd.text
    done = cmd.do()
    assert done.judgment.grade == 3 and cmd.done
    with pytest.raises(RuntimeError):
        cmd.do()
    undone = cmd.undo()
    assert undone.judgment is None and _state(repo, item.id) is None  # "no judgment", exactly
    assert repo.next_item(campaign.name, "alice").id == item.id
    assert repo.judgments(campaign.name) == ()
    redone = cmd.do()  # QUndoStack redo
    assert (redone.judgment.grade, redone.judgment.note, redone.judgment.seconds_spent) == (
        3,
        "answers it",
        4.0,
    )
    assert [h.action for h in repo.history(campaign.name)] == ["judge", "undo", "judge"]


def test_undo_restores_the_exact_previous_judgment(repo: JudgmentRepository, campaign: Campaign):
    item = repo.next_item(campaign.name, "alice")
    repo.judge(item.id, "alice", 1, note="first look", seconds_spent=2.0)
    before = _state(repo, item.id)
    cmd = JudgeCommand(repo, item.id, "alice", 2, note="", seconds_spent=5.0)
    after = cmd.do().judgment
    assert (after.grade, after.note, after.seconds_spent) == (2, None, 7.0)
    cmd.undo()
    assert _state(repo, item.id) == before  # grade, note, seconds and both timestamps


def test_clear_command_and_undo(repo: JudgmentRepository, campaign: Campaign):
    item = repo.next_item(campaign.name, "alice")
    repo.judge(item.id, "alice", 2, note="n", seconds_spent=1.0)
    before = _state(repo, item.id)
    cmd = ClearJudgmentCommand(repo, item.id, "alice")
    assert cmd.do().judgment is None and _state(repo, item.id) is None
    assert cmd.undo().judgment.state == before
    assert _state(repo, item.id) == before


def test_undo_refuses_to_overwrite_a_later_change(repo: JudgmentRepository, campaign: Campaign):
    item = repo.next_item(campaign.name, "alice")
    cmd = JudgeCommand(repo, item.id, "alice", 1)
    cmd.do()
    repo.judge(item.id, "alice", 3)  # e.g. another window
    with pytest.raises(UserError, match="judged again"):
        cmd.undo()
    assert _state(repo, item.id).grade == 3


def test_undo_last_walks_back_through_the_history(repo: JudgmentRepository, campaign: Campaign):
    a, b = repo.items(campaign.name)[:2]
    repo.judge(a.id, "alice", 1)
    repo.judge(b.id, "alice", 2)
    repo.judge(a.id, "alice", 3)
    repo.judge(b.id, "bob", 0)  # bob's changes are his own
    assert repo.undo_last(campaign.name, "alice").judgment.grade == 1  # a: 3 -> 1
    assert repo.undo_last(campaign.name, "alice").judgment is None  # b: 2 -> nothing
    assert _state(repo, a.id).grade == 1 and _state(repo, b.id) is None
    assert repo.undo_last(campaign.name, "alice").judgment is None  # a: 1 -> nothing
    assert repo.undo_last(campaign.name, "alice") is None
    assert repo.undo_last(campaign.name, "nobody") is None
    assert _state(repo, b.id, "bob").grade == 0
    history = repo.history(campaign.name, "alice")
    assert [h.action for h in history] == ["judge"] * 3 + ["undo"] * 3
    assert [h.reverts_id for h in history[3:]] == [history[2].id, history[1].id, history[0].id]
    with pytest.raises(UserError, match="already been undone"):
        repo.revert(history[0].id)
    with pytest.raises(UserError, match="itself an undo"):
        repo.revert(history[3].id)
    with pytest.raises(UserError, match="no judgment history entry"):
        repo.revert(10**6)


def test_undo_last_skips_what_commands_undid(repo: JudgmentRepository, campaign: Campaign):
    a, b = repo.items(campaign.name)[:2]
    repo.judge(a.id, "alice", 1)
    cmd = JudgeCommand(repo, b.id, "alice", 2)
    cmd.do()
    cmd.undo()
    assert repo.undo_last(campaign.name, "alice").entry.reverts_id is not None
    assert _state(repo, a.id) is None and _state(repo, b.id) is None

"""Reliability shown with real processes: SIGKILL while judging loses nothing that returned;
two processes judging the same campaign at once lose and duplicate nothing, and never see
"database is locked"."""

from __future__ import annotations

import itertools
import random
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from clirlens.core.types import Passage, Query, Run
from clirlens.storage.repository import JudgmentRepository

ROUNDS = 3
CHILD = r"""
import sys
ROUNDS = @ROUNDS@
from clirlens.storage.repository import JudgmentRepository

url, campaign, mode, arg = sys.argv[1:5]
repo = JudgmentRepository.open(url)
items = [it.id for it in repo.items(campaign)]
print("ready", flush=True)
if mode == "crash":  # judge in a loop, print each call that returned, until killed
    start = int(arg)
    for n, item in enumerate(items[start:]):
        j = repo.judge(item, "crash", (start + n) % 4, note=f"n{start + n}", seconds_spent=0.5)
        print(j.item_id, j.grade, flush=True)
else:  # "race": as annotator `arg` and as the shared annotator, same items, same order
    me = arg
    sys.stdin.readline()  # start together
    for rnd in range(ROUNDS):
        for item in items:
            grade = (item + rnd + (me == "b")) % 4
            repo.judge(item, me, grade)
            repo.judge(item, "shared", grade)
            if item % 16 == 0:
                repo.next_item(campaign, me)
                repo.progress(campaign)
    print("done", flush=True)
repo.close()
""".replace("@ROUNDS@", str(ROUNDS))


def _child(url: str, campaign: str, mode: str, arg: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, campaign, mode, arg],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line != "ready\n":
        proc.kill()
        raise AssertionError(f"child did not start: {line!r} {proc.stderr.read()}")  # type: ignore[union-attr]
    return proc


def _campaign(repo: JudgmentRepository, name: str, n_queries: int, depth: int) -> int:
    queries = [Query(f"q{i}", f"question {i}?", "hi") for i in range(n_queries)]
    passages = [Passage(f"p{i}", f"passage {i}", "en") for i in range(depth)]
    run = Run.from_scores(
        "m", {q.id: {p.id: float(-i) for i, p in enumerate(passages)} for q in queries}
    )
    return repo.create_campaign(name, [run], queries, passages, depth=depth).size


@pytest.mark.slow
def test_sigkill_while_judging_loses_no_returned_judgment(tmp_path: Path):
    path = tmp_path / "judgments.sqlite"
    with JudgmentRepository.open(path) as repo:
        size = _campaign(repo, "crash", 100, 20)
    returned: dict[int, int] = {}
    start = 0
    rng = random.Random(5)
    for _ in range(2):  # crash, reopen, judge on, crash again
        proc = _child(str(path), "crash", "crash", str(start))
        assert proc.stdout is not None
        lines = []
        for _ in range(rng.randint(150, 300)):
            line = proc.stdout.readline()
            assert line, f"child stopped early: {proc.stderr.read()}"  # type: ignore[union-attr]
            lines.append(line)
        proc.send_signal(signal.SIGKILL)
        lines += proc.stdout.read().splitlines(keepends=True)  # printed before it died
        assert proc.wait() == -signal.SIGKILL
        proc.stdout.close()
        proc.stderr.close()  # type: ignore[union-attr]
        for line in lines:
            if line.endswith("\n"):  # a complete line: that call returned
                item, grade = map(int, line.split())
                returned[item] = grade

        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.close()
        with JudgmentRepository.open(path) as repo:
            got = {j.item_id: j for j in repo.judgments("crash", "crash")}
            missing = {i: g for i, g in returned.items() if i not in got or got[i].grade != g}
            assert missing == {}
            assert len(got) <= len(returned) + 1  # plus at most the call in flight
            assert len(repo.history("crash", "crash")) == len(got)  # same transaction
            assert all(j.note == f"n{n}" for n, j in enumerate(got.values()))
        start = len(got)
        assert start < size
    assert len(returned) >= 300


@pytest.mark.slow
def test_two_processes_judging_the_same_campaign(db_url: str):
    with JudgmentRepository.open(db_url) as repo:
        size = _campaign(repo, "race", 4, 12)
    procs = [_child(db_url, "race", "race", me) for me in ("a", "b")]
    for p in procs:
        p.stdin.write("go\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
    results = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert "locked" not in err.lower() and "busy" not in err.lower(), err
        assert p.returncode == 0 and out == "done\n", err

    with JudgmentRepository.open(db_url) as repo:
        items = [it.id for it in repo.items("race")]
        assert len(items) == size == 48
        for me, shift in (("a", 0), ("b", 1)):
            mine = repo.judgments("race", me)
            assert sorted(j.item_id for j in mine) == sorted(items)  # none lost, none twice
            assert all(j.grade == (j.item_id + ROUNDS - 1 + shift) % 4 for j in mine)
        shared = {j.item_id: j for j in repo.judgments("race", "shared")}
        assert len(repo.judgments("race", "shared")) == len(shared) == size
        history = repo.history("race", "shared")
        assert len(history) == 2 * ROUNDS * size  # every call recorded once
        chains: dict[int, list] = defaultdict(list)
        for h in history:
            chains[h.item_id].append(h)
        for item, chain in chains.items():
            # serialised: each change starts from exactly the state the previous one left
            assert chain[0].old is None
            assert all(later.old == earlier.new for earlier, later in itertools.pairwise(chain))
            assert shared[item].state == chain[-1].new
        assert repo.progress("race").judged_by_all == size

"""Progress plumbing: relabelled jobs keep their result and close the inner job on cancel."""

from __future__ import annotations

from clirlens.core.progress import Eta, describe, duration, relabel, run
from clirlens.core.types import Progress


def test_relabel_prefixes_messages_and_returns_the_result():
    def job():
        yield Progress(0, 2, "encoding")
        yield Progress(1, 2, "")
        return 42

    seen = []
    assert run(relabel(job(), "me5 th"), seen.append) == 42
    assert [p.message for p in seen] == ["me5 th: encoding", "me5 th"]
    assert run(relabel(job(), str.upper), seen.append) == 42 and seen[-2].message == "ENCODING"


def test_closing_the_relabelled_job_closes_the_inner_one_at_once():
    closed = []

    def job():
        try:
            yield Progress(0, 10, "working")
            yield Progress(1, 10, "working")
        finally:
            closed.append(True)

    outer = relabel(job(), "x")
    next(outer)
    outer.close()  # a cancel at a yield
    assert closed == [True]


def test_time_left_follows_the_rate_of_the_current_stage():
    now = [0.0]
    eta = Eta(warmup=2.0, clock=lambda: now[0])
    assert eta(Progress(0, 1000, "encoding")) is None  # the stage starts
    now[0] = 1.0
    assert eta(Progress(100, 1000, "encoding")) is None  # still warming up
    now[0] = 4.0
    assert eta(Progress(400, 1000, "encoding")) == 6.0  # 100/s, 600 to go
    now[0] = 5.0
    assert eta(Progress(0, 50, "indexing")) is None  # a new stage restarts the clock
    now[0] = 8.0
    assert eta(Progress(25, 50, "indexing")) == 3.0
    assert eta(Progress(50, 50, "indexing")) is None  # done
    assert eta(Progress(3, 0, "reading")) is None  # unknown total


def test_progress_text_has_counts_and_time_left():
    assert describe(Progress(640, 1190, "encoding passages"), 80) == (
        "encoding passages — 640 / 1,190 · about 1 min 20 s left"
    )
    assert describe(Progress(0, 0, "reading"), None) == "reading"
    read = Progress(4_414_709, 30_855_417, "reading corpus", unit="bytes")
    assert describe(read, None) == "reading corpus — 4.4 / 30.9 MB"


def test_relabelled_progress_keeps_its_unit():
    def job():
        yield Progress(5_000_000, 10_000_000, "corpus", unit="bytes")
        return 1

    seen = []
    assert run(relabel(job(), "mrtydi"), seen.append) == 1
    assert seen == [Progress(5_000_000, 10_000_000, "mrtydi: corpus", unit="bytes")]
    assert [duration(x) for x in (0.4, 59, 61, 3725)] == ["0 s", "59 s", "1 min 01 s", "1 h 02 min"]


def test_a_subclass_keeps_its_positional_fields():
    """``unit`` is keyword-only: a subclass's own fields, given by position, stay in place."""
    from clirlens.core.distill.train import DistillProgress

    p = DistillProgress(2, 6, "distilling", 2, 0.5, {"R@1": 0.1})
    assert (p.step, p.loss, p.evaluation, p.unit) == (2, 0.5, {"R@1": 0.1}, "")

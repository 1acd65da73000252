"""Progress plumbing: relabelled jobs keep their result and close the inner job on cancel."""

from __future__ import annotations

from clirlens.core.progress import relabel, run
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

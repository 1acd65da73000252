"""Helpers shared by the GUI tests."""

from __future__ import annotations


def wait_prepared(qtbot, controller, timeout: int = 180_000) -> None:
    """Until the direction asked for is prepared and shown, and no job runs."""
    qtbot.waitUntil(
        lambda: (
            controller.comparison is not None
            and controller.pending_direction is None
            and not controller.jobs.busy
        ),
        timeout=timeout,
    )


def passages_shown(pane) -> list[tuple[str, int, str]]:
    """(passage id, rank, score text) of a ranked list's cards within its shown depth."""
    return [
        (c.passage_id, c.hit.rank, c.score_label.text()) for c in pane.cards if not c.hit.beyond
    ]

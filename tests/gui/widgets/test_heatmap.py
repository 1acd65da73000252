"""The heatmap's token axes draw rotated labels by overriding pyqtgraph's
``AxisItem.drawPicture``, an undocumented hook: this fails loudly if pyqtgraph changes it."""

from __future__ import annotations

import inspect

import pyqtgraph as pg
import pytest


def test_pyqtgraph_axis_hook_is_as_the_heatmap_expects():
    params = list(inspect.signature(pg.AxisItem.drawPicture).parameters)
    assert params == ["self", "p", "axisSpec", "tickSpecs", "textSpecs"], params
    # textSpecs entries are (QRectF, alignment flags, text), as TokenAxis unpacks them
    source = inspect.getsource(pg.AxisItem.generateDrawSpecs)
    assert "textSpecs.append((rect, textFlags, vstr))" in source


def _plan(n: int, m: int):
    import numpy as np

    rng = np.random.default_rng(n * 1000 + m)
    p = rng.random((n, m))
    return p / p.sum()


def test_the_visible_range_fits_every_plan_shown_in_turn(qtbot):
    """Plans of different shapes in sequence: each shows whole (the range was once clamped
    to the previous plan's limits: a 3x10 plan after a 13x232 one drew as one row)."""
    from clirlens.gui.widgets.heatmap import HeatmapPanel, token_font

    panel = HeatmapPanel(token_font())
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    for n, m in [(3, 10), (13, 232), (3, 10), (1, 1), (40, 8), (3, 8)]:
        plan = _plan(n, m)
        rows = tuple(f"r{i}" for i in range(n))
        cols = tuple(f"c{j}" for j in range(m))
        panel.show_matrix(plan, rows, cols, plan.sum(1), plan.sum(0), 0, "viridis")
        qtbot.wait(5)
        (x0, x1), (y0, y1) = panel.visible_range()
        assert (x0, x1, y0, y1) == pytest.approx((0, m, 0, n)), (n, m)
        ticks = panel.left_axis.tickValues(y0, y1, panel.main.vb.height())
        if n <= 13:  # every row label fits: all of them shown, the last one too
            assert ticks and [int(v) for v in ticks[0][1]] == list(range(n))
        if m <= 10:
            cols_shown = panel.bottom_axis.tickValues(x0, x1, panel.main.vb.width())
            assert [int(v) for v in cols_shown[0][1]] == list(range(m))
            assert panel.bottom_axis.tickStrings(cols_shown[0][1], 1, 1)[-1] == f"c{m - 1}"

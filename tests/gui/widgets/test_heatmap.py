"""The heatmap's token axes draw rotated labels by overriding pyqtgraph's
``AxisItem.drawPicture``, an undocumented hook: this fails loudly if pyqtgraph changes it."""

from __future__ import annotations

import inspect

import pyqtgraph as pg


def test_pyqtgraph_axis_hook_is_as_the_heatmap_expects():
    params = list(inspect.signature(pg.AxisItem.drawPicture).parameters)
    assert params == ["self", "p", "axisSpec", "tickSpecs", "textSpecs"], params
    # textSpecs entries are (QRectF, alignment flags, text), as TokenAxis unpacks them
    source = inspect.getsource(pg.AxisItem.generateDrawSpecs)
    assert "textSpecs.append((rect, textFlags, vstr))" in source

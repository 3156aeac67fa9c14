"""Viewport images: a pane draws one picture of exactly the visible range at screen resolution,
sampled from per-take column arrays, instead of one full-size image per take.

Painting then costs the same for one minute or an hour of takes: the work is O(pixels), and a pan
or zoom only re-samples columns that are already computed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets


def pixel_times(t0: float, t1: float, width: int) -> np.ndarray:
    """Centre time of each of ``width`` pixel columns across [t0, t1] -> float64 [width]."""
    return t0 + (np.arange(width) + 0.5) * ((t1 - t0) / width)


def columns_under(times: np.ndarray, start: float, step: float, n: int) -> tuple[slice, np.ndarray]:
    """The pixels (a slice of the sorted ``times``) that fall on a run of ``n`` columns of ``step``
    seconds from ``start``, and the column index under each of them (int [covered])."""
    a, b = np.searchsorted(times, [start, start + n * step])
    idx = np.floor((times[a:b] - start) / step).astype(np.int64)
    return slice(int(a), int(b)), np.minimum(idx, n - 1)


def locate_columns(times: np.ndarray, starts: np.ndarray, counts: np.ndarray, step: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Runs of columns laid end to end on the time axis (run r: ``counts[r]`` columns of ``step``
    seconds from ``starts[r]``, sorted, not overlapping), stored one after another in one array.
    -> (the pixels that fall on a column, int [covered]; that column's index in the array)."""
    if not len(starts):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    run = np.searchsorted(starts, times, side="right") - 1
    ok = run >= 0
    run = np.maximum(run, 0)
    col = np.floor((times - starts[run]) / step).astype(np.int64)
    ok &= col < counts[run]
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return np.nonzero(ok)[0], (offsets[run] + col)[ok]


def pack_rgba(rgba: np.ndarray) -> np.ndarray:
    """uint8 RGBA [..., 4] -> the uint32 pixels [...] a picture holds (the same bytes, one word each)."""
    return np.ascontiguousarray(rgba, dtype=np.uint8).view(np.uint32)[..., 0]


def rgba_lut(cmap: pg.ColorMap, n: int = 256) -> np.ndarray:
    """A colour map as opaque RGBA pixels [n] (see ``ViewportImage``)."""
    lut = np.asarray(cmap.getLookupTable(0.0, 1.0, n, alpha=True), dtype=np.uint8)
    lut[:, 3] = 255
    return pack_rgba(lut)


def rgba(r: int, g: int, b: int, a: int = 255) -> np.uint32:
    """One RGBA pixel as the uint32 a picture holds."""
    return pack_rgba(np.array([r, g, b, a]))[()]


class ViewportImage:
    """One item that always shows a picture of the visible time range. A picture is uint32
    [rows, width], each element one pixel's RGBA bytes (one gather from a table colours a whole
    column); 0 is transparent, so the pane's background shows between takes. The item is a plain
    QGraphicsPixmapItem: Qt paints it without calling back into Python (during a render the
    engine thread holds the GIL, and every callback from a paint waits for it)."""

    def __init__(self, plot: pg.PlotWidget, z: float = 0.0) -> None:
        self.item = QtWidgets.QGraphicsPixmapItem()
        self.item.setZValue(z)
        plot.addItem(self.item, ignoreBounds=True)
        self.picture: np.ndarray | None = None

    @staticmethod
    def blank(rows: int, width: int) -> np.ndarray:
        return np.zeros((rows, width), dtype=np.uint32)

    def show(self, picture: np.ndarray, t0: float, t1: float, y0: float, height: float) -> None:
        """picture uint32 [rows, width] from ``blank``; row 0 is drawn at y0."""
        self.picture = np.ascontiguousarray(picture)
        rows, width = picture.shape
        image = QtGui.QImage(self.picture.data, width, rows, width * 4, QtGui.QImage.Format_RGBA8888)
        self.item.setPixmap(QtGui.QPixmap.fromImage(image))  # (a copy: the array may go)
        self.item.setTransform(QtGui.QTransform(max(t1 - t0, 1e-12) / width, 0, 0, height / rows, t0, y0))

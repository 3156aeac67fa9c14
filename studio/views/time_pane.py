"""The base of every time-aligned pane: one x axis in timeline seconds, the same mouse behaviour,
and the shared overlays (cursor, playhead, selected range).

Mouse: click sets the cursor, left-drag selects a range, wheel zooms time, Shift/middle-drag pans.
Panes repaint on a timer, only when the timeline or the visible range changed.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from studio.models.selection import Selection
from studio.models.timeline import Timeline

REPAINT_MS = 33
AXIS_WIDTH = 56  # the same left-axis width on every pane keeps their time axes aligned
CURSOR_PEN = pg.mkPen("#d0d0d0", width=1, style=QtCore.Qt.DashLine)
PLAYHEAD_PEN = pg.mkPen("#f0a030", width=2)


class TimeViewBox(pg.ViewBox):
    """Time-only navigation; left-drag selects instead of panning."""

    clicked = QtCore.Signal(float, object)  # seconds, the mouse event's modifiers
    range_dragged = QtCore.Signal(float, float, bool)  # t0, t1, finished

    def __init__(self) -> None:
        super().__init__()
        self.setMouseEnabled(x=True, y=False)
        self.setLimits(xMin=-0.5)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (Qt names)
        if ev.button() == QtCore.Qt.LeftButton:
            ev.accept()
            self.clicked.emit(self.mapSceneToView(ev.scenePos()).x(), ev.modifiers())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        pan = ev.button() == QtCore.Qt.MiddleButton or ev.modifiers() & QtCore.Qt.ShiftModifier
        if ev.button() == QtCore.Qt.LeftButton and not pan:
            ev.accept()
            t0 = self.mapSceneToView(ev.buttonDownScenePos()).x()
            t1 = self.mapSceneToView(ev.scenePos()).x()
            self.range_dragged.emit(t0, t1, ev.isFinish())
        else:
            super().mouseDragEvent(ev, axis)


class TimePane(pg.PlotWidget):
    """Subclasses implement ``repaint_content()``; it runs when ``needs_repaint()`` says so."""

    def __init__(self, timeline: Timeline, selection: Selection, name: str, parent=None) -> None:
        self.vb = TimeViewBox()
        super().__init__(parent, viewBox=self.vb)
        self.timeline, self.selection = timeline, selection
        self.setObjectName(name)
        self.setMenuEnabled(False)
        self.hideButtons()
        left = self.getAxis("left")
        left.setWidth(AXIS_WIDTH)
        # the y axis does not change when time pans or zooms: paint it from a cached pixmap
        left.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.cursor_line = pg.InfiniteLine(0.0, angle=90, movable=False, pen=CURSOR_PEN)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=PLAYHEAD_PEN)
        self.playhead.setVisible(False)
        self.region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(120, 170, 255, 45),
                                          pen=pg.mkPen(120, 170, 255, 120))
        self.region.setVisible(False)
        for item in (self.region, self.cursor_line, self.playhead):
            item.setZValue(50)
            self.addItem(item, ignoreBounds=True)
        self._seen: tuple | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        selection.changed.connect(self._on_selection)
        self._on_selection("range")

    # ---- overlays -------------------------------------------------------------------------------

    def set_playhead(self, seconds: float | None) -> None:
        self.playhead.setVisible(seconds is not None)
        if seconds is not None:
            self.playhead.setValue(seconds)

    def _on_selection(self, what: str) -> None:
        self.cursor_line.setValue(self.selection.cursor)
        r = self.selection.range
        self.region.setVisible(r is not None)
        if r is not None:
            self.region.setRegion(r)

    # ---- repaint ----------------------------------------------------------------------------------

    def view_span(self) -> tuple[float, float]:
        (t0, t1), _ = self.vb.viewRange()
        return t0, t1

    def needs_repaint(self) -> tuple:
        """A key of everything the picture depends on; a new key triggers a repaint."""
        return (self.timeline.version, self.view_span(), int(self.vb.width()))

    def tick(self) -> None:
        key = self.needs_repaint()
        if key != self._seen:
            self._seen = key
            self.repaint_content()

    def repaint_content(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

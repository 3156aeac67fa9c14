"""The base of every time-aligned pane: one x axis in timeline seconds, the same mouse behaviour,
and the shared overlays (cursor, playhead, selected range).

Mouse: click sets the cursor, left-drag selects a range, wheel zooms time, Shift/middle-drag pans.
Panes repaint on a timer, only when the timeline or the visible range changed.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from studio.models.selection import Selection
from studio.models.timeline import Timeline

REPAINT_MS = 33
SPAN = 1e4  # markers and regions reach this far up and down: past any pane's y range
STAGGER = 4  # panes' repaint ticks are spread over this many phases of the period
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


class TimeMarker(QtWidgets.QGraphicsLineItem):
    """A vertical line at a time, across the pane (a plain Qt item: painted without Python)."""

    def __init__(self, pen: QtGui.QPen) -> None:
        super().__init__(0.0, -SPAN, 0.0, SPAN)
        pen = QtGui.QPen(pen)
        pen.setCosmetic(True)
        self.setPen(pen)

    def setValue(self, seconds: float) -> None:  # noqa: N802 (the pyqtgraph name it replaces)
        self.setPos(seconds, 0.0)

    def value(self) -> float:
        return self.pos().x()


class TimeRegion(QtWidgets.QGraphicsRectItem):
    """A shaded time range across the pane."""

    def __init__(self) -> None:
        super().__init__()
        pen = QtGui.QPen(QtGui.QColor(120, 170, 255, 120))
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setBrush(QtGui.QColor(120, 170, 255, 45))

    def setRegion(self, span: tuple[float, float]) -> None:  # noqa: N802
        t0, t1 = sorted(span)
        self.setRect(QtCore.QRectF(t0, -SPAN, t1 - t0, 2 * SPAN))

    def getRegion(self) -> tuple[float, float]:  # noqa: N802
        r = self.rect()
        return r.left(), r.right()


class TimePane(pg.PlotWidget):
    """Subclasses implement ``repaint_content()``; it runs when ``needs_repaint()`` says so."""

    _created = 0

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
        self.cursor_line = TimeMarker(CURSOR_PEN)
        self.playhead = TimeMarker(PLAYHEAD_PEN)
        self.playhead.setVisible(False)
        self.region = TimeRegion()
        self.region.setVisible(False)
        for item in (self.region, self.cursor_line, self.playhead):
            item.setZValue(50)
            self.addItem(item, ignoreBounds=True)
        self._seen: tuple | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.setTimerType(QtCore.Qt.PreciseTimer)  # a coarse timer may drift into step with the others
        self._timer.timeout.connect(self.tick)
        # Staggered: each pane ticks (and so repaints) in its own quarter of the period, so a render
        # streaming into all panes never costs one long stall of all four repaints back to back.
        TimePane._created += 1
        QtCore.QTimer.singleShot(REPAINT_MS * (TimePane._created % STAGGER) // STAGGER, self._timer.start)
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

"""The paragraph lane: which paragraph produced which stretch of the timeline.

Each shown take is a block labelled with its paragraph number and first words; the selected
paragraph is highlighted, a stale one (text changed since its take) is drawn in amber. Clicking a
block selects its paragraph; hovering shows its whole text.

All blocks are one graphics item that paints only the blocks in view, in screen pixels: an
hour-long episode has hundreds of paragraphs, and one item per block made every pan pay for all
of them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from studio.models.selection import Selection
from studio.models.timeline import Timeline
from studio.views.time_pane import TimePane

COLOURS = {"normal": "#3d6f99", "selected": "#5fa8e8", "stale": "#b8862b", "live": "#4f9a5c"}
LABEL_MIN_PIXELS = 48  # narrower blocks show no label
BLOCK_Y0, BLOCK_HEIGHT = 0.1, 0.8


def _snippet(text: str, words: int = 6) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


@dataclass(frozen=True)
class Block:
    paragraph_id: str
    number: int
    kind: str  # a key of COLOURS
    text: str
    start: float
    end: float

    @property
    def label(self) -> str:
        return f"¶{self.number} {_snippet(self.text)}"


class _BlocksItem(pg.GraphicsObject):
    """Paints the blocks that overlap the view, labels elided to what is visible of each."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[Block] = []
        self._starts: list[float] = []
        self._fills = {k: QtGui.QColor(c) for k, c in COLOURS.items()}
        self._outline = QtGui.QPen(QtGui.QColor("#20303a"))
        self.setAcceptHoverEvents(True)

    def set_blocks(self, blocks: list[Block]) -> None:
        self.prepareGeometryChange()
        self.blocks, self._starts = blocks, [b.start for b in blocks]
        self.update()

    def block_at(self, t: float) -> Block | None:
        i = bisect.bisect_right(self._starts, t) - 1
        return self.blocks[i] if i >= 0 and t < self.blocks[i].end else None

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt names)
        if not self.blocks:
            return QtCore.QRectF()
        return QtCore.QRectF(self.blocks[0].start, 0.0, self.blocks[-1].end - self.blocks[0].start, 1.0)

    def paint(self, p: QtGui.QPainter, *args) -> None:
        vb = self.getViewBox()
        if vb is None or not self.blocks:
            return
        (t0, t1), _ = vb.viewRange()
        to_device = p.transform()
        first = max(0, bisect.bisect_right(self._starts, t0) - 1)
        last = bisect.bisect_right(self._starts, t1)
        p.save()
        p.resetTransform()  # draw in pixels: crisp outlines, text at its natural size
        metrics = QtGui.QFontMetrics(p.font())
        left = to_device.map(QtCore.QPointF(t0, 0.0)).x()
        for b in self.blocks[first:last]:
            r = to_device.mapRect(QtCore.QRectF(b.start, BLOCK_Y0, b.end - b.start, BLOCK_HEIGHT)).normalized()
            p.setPen(self._outline)
            p.setBrush(self._fills[b.kind])
            p.drawRect(r)
            x0 = max(r.left(), left)
            room = r.right() - x0 - 8
            if room >= LABEL_MIN_PIXELS - 8:
                p.setPen(QtGui.QColor("#ffffff"))
                text = metrics.elidedText(b.label, QtCore.Qt.ElideRight, int(room))
                p.drawText(QtCore.QRectF(x0 + 4, r.top(), room, r.height()),
                           QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter, text)
        p.restore()

    def hoverMoveEvent(self, ev) -> None:  # noqa: N802
        b = self.block_at(ev.pos().x())
        self.setToolTip("" if b is None else f"¶{b.number}: {b.text}")


class ParagraphLane(TimePane):
    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "paragraph_lane", parent)
        self.setMaximumHeight(64)
        self.getAxis("left").setTicks([[(0.5, "¶")], []])
        self.hideAxis("bottom")  # the time axis is the latent pane's; one fewer axis to paint
        self.setYRange(0.0, 1.0, padding=0.05)
        self.vb.setLimits(yMin=0.0, yMax=1.0)
        self.item = _BlocksItem()
        self.addItem(self.item, ignoreBounds=True)
        self._laid_out: tuple | None = None  # (timeline version, selected paragraph) of the blocks
        self.vb.clicked.connect(self._on_clicked)

    def needs_repaint(self) -> tuple:
        # the blocks do not depend on the view: the item paints what is in view by itself
        return (self.timeline.version, self.selection.paragraph_id)

    def blocks(self) -> list[tuple[str, float, float]]:
        """(paragraph id, start, end) of the drawn blocks."""
        return [(b.paragraph_id, b.start, b.end) for b in self.item.blocks]

    def colour_of(self, pid: str) -> str | None:
        return next((COLOURS[b.kind] for b in self.item.blocks if b.paragraph_id == pid), None)

    def _kind(self, seg) -> str:
        p = self.timeline.project.paragraph(seg.paragraph_id)
        return ("live" if seg.live else "selected" if p.id == self.selection.paragraph_id
                else "stale" if self.timeline.project.stale(p) else "normal")

    def repaint_content(self) -> None:
        text = self.timeline.project.paragraph
        blocks = [Block(s.paragraph_id, s.number, self._kind(s), text(s.paragraph_id).text, s.start, s.end)
                  for s in self.timeline.segments]
        if blocks != self.item.blocks:
            self.item.set_blocks(blocks)

    def _on_clicked(self, seconds: float, modifiers) -> None:
        seg = self.timeline.segment_at(seconds)
        if seg is not None:
            self.selection.select_paragraph(seg.paragraph_id)

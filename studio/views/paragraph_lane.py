"""The paragraph lane: which paragraph produced which stretch of the timeline.

Each shown take is a block labelled with its paragraph number and first words; the selected
paragraph is highlighted, a stale one (text changed since its take) is drawn in amber. Clicking a
block selects its paragraph.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from studio.models.selection import Selection
from studio.models.timeline import Timeline
from studio.views.time_pane import TimePane

COLOURS = {"normal": "#3d6f99", "selected": "#5fa8e8", "stale": "#b8862b", "live": "#4f9a5c"}

def _snippet(text: str, words: int = 6) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")

class ParagraphLane(TimePane):
    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "paragraph_lane", parent)
        self.setMaximumHeight(64)
        self.getAxis("left").setTicks([[(0.5, "¶")], []])
        self.hideAxis("bottom")  # the time axis is the waveform's and the latent pane's; one fewer axis to paint
        self.setYRange(0.0, 1.0, padding=0.05)
        self.vb.setLimits(yMin=0.0, yMax=1.0)
        self._blocks: list[tuple[str, QtWidgets.QGraphicsRectItem, pg.TextItem]] = []
        self._keys: list[tuple[str, int, str, str]] = []  # what each block shows
        self.vb.clicked.connect(self._on_clicked)

    def needs_repaint(self) -> tuple:
        return (self.timeline.version, self.selection.paragraph_id, self.view_span())

    def blocks(self) -> list[tuple[str, float, float]]:
        """(paragraph id, start, end) of the drawn blocks."""
        return [(pid, r.rect().left(), r.rect().right()) for pid, r, _ in self._blocks]

    def _kind(self, seg) -> str:
        p = self.timeline.project.paragraph(seg.paragraph_id)
        return ("live" if seg.live else "selected" if p.id == self.selection.paragraph_id
                else "stale" if self.timeline.project.stale(p) else "normal")

    def repaint_content(self) -> None:
        segs = self.timeline.segments
        text = self.timeline.project.paragraph
        layout = tuple((s.paragraph_id, s.number, self._kind(s), text(s.paragraph_id).text) for s in segs)
        if layout != getattr(self, "_layout", None):  # blocks added, removed or recoloured
            self._layout = layout
            self._update_blocks(layout)
        t0, t1 = self.view_span()
        for seg, (_, rect, label) in zip(segs, self._blocks):
            rect.setRect(QtCore.QRectF(seg.start, 0.1, seg.duration, 0.8))  # a growing render moves the rest
            label.setPos(max(seg.start, t0), 0.5)  # keep each label in view while its block is
            label.setVisible(bool(seg.end > t0 and seg.start < t1))

    def _update_blocks(self, layout: tuple[tuple[str, int, str, str], ...]) -> None:
        """Blocks for (paragraph id, number, kind, text) in order: only the blocks whose paragraph,
        number, kind or text changed are touched (an hour-long episode has hundreds of them)."""
        old = {pid: (rect, label, key) for (pid, rect, label), key in zip(self._blocks, self._keys)}
        self._blocks, self._keys = [], []
        for key in layout:
            pid, number, kind, text = key
            rect, label, was = old.pop(pid, (None, None, None))
            if rect is None:
                rect, label = QtWidgets.QGraphicsRectItem(), pg.TextItem(color="#ffffff", anchor=(0, 0.5))
                rect.setPen(pg.mkPen("#20303a"))
                self.addItem(rect)
                self.addItem(label, ignoreBounds=True)
            if key != was:
                rect.setBrush(pg.mkBrush(COLOURS[kind]))
                rect.setToolTip(f"¶{number}: {text}")
                label.setText(f"¶{number} {_snippet(text)}")
            self._blocks.append((pid, rect, label))
            self._keys.append(key)
        for rect, label, _ in old.values():  # paragraphs no longer shown
            self.removeItem(rect)
            self.removeItem(label)

    def _on_clicked(self, seconds: float, modifiers) -> None:
        seg = self.timeline.segment_at(seconds)
        if seg is not None:
            self.selection.select_paragraph(seg.paragraph_id)

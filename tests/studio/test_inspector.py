"""The frame inspector names the text unit a frame was drawn under."""

import numpy as np

from engine.api import Frame
from studio.models.timeline import Segment
from studio.views.inspector import FrameInspector


def _frame(unit: str) -> Frame:
    return Frame(3, 17, 0.5, np.zeros(4, np.float32), np.array([17, 10, 10, 10, 10]), None, unit=unit)


def test_the_header_names_the_phone_boundary_or_mark_under_the_pointer(qtbot):
    inspector = FrameInspector()
    qtbot.addWidget(inspector)
    seg = Segment("p1", 2, 1.0, object(), False)
    for unit, words in (("IH", "· phone IH"), ("_", "· between words"), (",", "· at ','"), ("", None)):
        inspector.show_frame(seg, _frame(unit))
        header = inspector.header.text()
        assert header.startswith("¶2 · frame 3 · 0.24 s (timeline 1.24 s) · semantic 17 (p = 0.50)")
        if words:
            assert header.endswith(words)
        else:  # a model that reads no units: nothing after the semantic token
            assert header.endswith("(p = 0.50)")

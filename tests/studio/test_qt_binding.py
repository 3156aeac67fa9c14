"""The Qt binding must not leak references: PySide6 6.12.0 on Python 3.11 drops a reference to None
on every call that returns None and crashes the interpreter after a few thousand calls."""

import sys

from PySide6 import QtWidgets


def test_calls_returning_none_keep_none_alive(qtbot):
    widget = QtWidgets.QWidget()
    qtbot.addWidget(widget)
    items = QtWidgets.QListWidget()
    qtbot.addWidget(items)
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.setVisible(False)  # void in C++: None in Python
        items.currentItem()  # a null pointer: None
    assert sys.getrefcount(None) >= before - 50

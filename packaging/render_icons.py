"""Render the app icon's PNG sizes from its SVG (run after editing the SVG; the PNGs are committed).

    .venv/bin/python packaging/render_icons.py

Writes assets/icons/hicolor/<N>x<N>/apps/timbre-studio.png: the freedesktop icon-theme layout, so
the desktop entry's installer copies the tree as it is, and the studio picks its window icon there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6 import QtCore, QtGui, QtSvg  # noqa: E402

ICONS = Path(__file__).resolve().parent.parent / "assets" / "icons"
NAME = "timbre-studio"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int) -> QtGui.QImage:
    renderer = QtSvg.QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QtGui.QGuiApplication(sys.argv[:1])  # noqa: F841 (QPainter needs a GUI application)
    svg = ICONS / f"{NAME}.svg"
    for size in SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not render(svg, size).save(str(out)):
            raise SystemExit(f"render_icons: cannot write {out}")
        print(f"{out.relative_to(ICONS.parent.parent)}  {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

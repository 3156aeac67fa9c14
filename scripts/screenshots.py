"""Screenshots of the studio for the README: after a render, with a frame selected, light and dark.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py docs/screenshots
    (or QT_QPA_PLATFORM=offscreen, whose screen is only 800 px wide)

Uses a temporary settings folder, the built-in model on the CPU, and a fixed seed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = ("Welcome to Timbre Studio. Every paragraph is rendered on its own, one frame every eighty "
          "milliseconds.\n\nRegenerate a paragraph and the old take stays: compare them A/B, keep the one "
          "you like.\n\nClick any frame in the latent timeline to hear it and to see its flow trajectory.")


def wait(app, predicate, seconds: float) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the studio did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def main(out_dir: str) -> int:
    tmp = tempfile.mkdtemp(prefix="timbre-shots-")
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        os.environ[var] = os.path.join(tmp, var.lower())
    from PySide6 import QtWidgets

    from engine.api import FRAME_SECONDS
    from studio.app import build_studio
    from studio.models.selection import FrameRef
    from studio.settings import Settings, save

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    settings_file = Path(tmp) / "settings.json"
    save(Settings(text=SCRIPT, sampler={"max_seconds": 6.0, "seed": 7, "seed_locked": True}), settings_file)
    studio = build_studio(device="cpu", settings_file=settings_file)
    w = studio.window
    w.resize(1560, 960)
    w.show()
    studio.start_engine()
    wait(app, lambda: w.info is not None, 60)
    w.render_all()
    wait(app, lambda: not w.queue.busy, 300)
    para = w.project.paragraphs[1]
    seg = w.timeline.segment_of(para.id)
    w.selection.select_paragraph(para.id)
    w.selection.select_frame(FrameRef(para.id, 12))
    w.selection.set_cursor(seg.frame_start(12))
    w.selection.set_range(seg.frame_start(8), seg.frame_start(20) + FRAME_SECONDS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        w.set_theme(theme)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        path = out / f"studio-{theme}.png"
        w.grab().save(str(path))
        print(f"wrote {path} ({w.width()}x{w.height()})")
    w.set_theme("light")
    w.close()
    studio.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))

"""Studio benchmarks (figures, not pass/fail): startup, event-loop stalls while rendering, and
pan/zoom redraw time over a 60-minute timeline.

    python -m studio.bench [--startup-runs 3] [--render-seconds 60] [--minutes 60]

Run offscreen (QT_QPA_PLATFORM=offscreen) or on a display. Goals (issue 4): window visible within
2 s of launch; p99 event-loop stall <= 16 ms while a long paragraph renders; redraw <= 16 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TICK_MS = 4  # the probe timer's period; a stall is how much later than this a tick came


def measure_startup(runs: int) -> list[tuple[float, float]]:
    """(seconds to a visible window, seconds to a loaded model) per fresh process."""
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "XDG_CONFIG_HOME": tmp, "XDG_STATE_HOME": tmp, "XDG_DATA_HOME": tmp, "TIMBRE_T0": repr(time.time())}
            out = subprocess.run([sys.executable, "-m", "studio", "--probe-startup"], env=env, capture_output=True,
                                 text=True, timeout=120)
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("startup ")), None)
            if out.returncode != 0 or line is None:
                raise RuntimeError(f"startup probe failed: {out.stderr[-2000:]}")
            data = json.loads(line.removeprefix("startup "))
            results.append((data["visible"], data["loaded"]))
    return results


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)


def _open_studio(settings_file: Path):
    """The studio on the built-in tiny model, its 1400 x 900 window shown (the engine not started)."""
    from studio.app import build_studio

    studio = build_studio(model="tiny-random", device="cpu", settings_file=settings_file)
    studio.window.projects.ask = lambda title, text, buttons, default: "Discard"  # no modal question on close
    studio.window.resize(1400, 900)
    studio.window.show()
    return studio


def measure_render_stalls(app, render_seconds: float) -> dict[str, float]:
    """Lateness of a 4 ms timer on the GUI thread while one long paragraph renders and streams."""
    from PySide6 import QtCore

    from studio.settings import Settings, save

    with tempfile.TemporaryDirectory() as tmp:
        settings_file = Path(tmp) / "settings.json"
        text = "This paragraph is long, so that it renders for a while and streams many frames. " * 8
        save(Settings(text=text, sampler={"max_seconds": render_seconds, "seed": 3, "seed_locked": True},
                      sampler_model="tiny-random"), settings_file)
        studio = _open_studio(settings_file)
        w = studio.window
        studio.start_engine()
        while w.info is None:
            _pump(app, 0.05)
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000)
            last[0] = now

        timer = QtCore.QTimer()
        timer.setTimerType(QtCore.Qt.PreciseTimer)
        timer.timeout.connect(tick)
        w.queue.idle.connect(app.quit)
        t0 = time.perf_counter()
        w.render_all()
        timer.start(TICK_MS)
        app.exec()  # the real event loop, as in the app
        elapsed = time.perf_counter() - t0
        timer.stop()
        frames = len(w.project.paragraphs[0].current.frames)
        w.close()
        studio.close()
    stalls = np.maximum(np.array(gaps[5:]) - TICK_MS, 0.0)
    return {"frames": frames, "seconds": elapsed, "p50": float(np.percentile(stalls, 50)),
            "p99": float(np.percentile(stalls, 99)), "max": float(stalls.max())}


def measure_redraw(app, minutes: float) -> dict[str, float]:
    """Redraw time of every pane for zoom levels and pans over a long timeline (one take per minute)."""
    from engine.api import FRAME_SECONDS, Done, Frame, SamplingParams, SynthesisRequest

    with tempfile.TemporaryDirectory() as tmp:
        studio = _open_studio(Path(tmp) / "s.json")
        w = studio.window
        paragraphs = int(minutes)
        w.editor.setPlainText("\n\n".join(f"Paragraph number {i}." for i in range(paragraphs)))
        w.script_panel.commit_text()
        rng = np.random.default_rng(0)
        sr, k = 16_000, 8
        n_frames = int(60 / FRAME_SECONDS)
        for p in w.project.paragraphs:
            audio = (rng.standard_normal(60 * sr) * 0.1).astype(np.float32)
            frames = tuple(Frame(i, i % 64, 0.5, rng.uniform(-1, 1, k).astype(np.float32),
                                 np.zeros(k + 1, np.int64)) for i in range(n_frames))
            req = SynthesisRequest(p.text, params=SamplingParams(seed=1))
            w.project.add_take(p.id, Done(req, 1, frames, audio, sr, "synthetic", "0" * 16, 1.0, 0.1))
        total = w.timeline.duration
        start = time.perf_counter()  # opening the hour: every pane lays out its takes once
        for pane in w.panes:
            pane.tick()
        app.processEvents()
        first_layout = (time.perf_counter() - start) * 1000
        views = [(0.0, total), (total * 0.4, total * 0.4 + 600), (total * 0.5, total * 0.5 + 60),
                 (total * 0.5 + 10, total * 0.5 + 20), (total * 0.5 + 12, total * 0.5 + 13)]
        pans = [(total * f, total * f + 60) for f in np.linspace(0.05, 0.9, 12)]
        times = {}
        for label, ranges in (("zoom", views), ("pan", pans)):
            ms = []
            for t0, t1 in ranges:
                app.processEvents()  # what is pending from before (a spectrogram tick, say) is not the redraw's
                start = time.perf_counter()
                w.lane.setXRange(t0, t1, padding=0)  # every pane follows: their x axes are linked
                for pane in w.panes:
                    pane.tick()  # the new view's pictures
                for pane in w.panes:
                    pane.viewport().repaint()  # and their paint, now (Qt would paint on its next frame)
                ms.append((time.perf_counter() - start) * 1000)
            times[label] = ms
        w.close()
        studio.close()
    return {"minutes": total / 60, "first_layout": first_layout,
            "zoom_max": max(times["zoom"]), "zoom_median": statistics.median(times["zoom"]),
            "pan_max": max(times["pan"]), "pan_median": statistics.median(times["pan"])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--startup-runs", type=int, default=3)
    p.add_argument("--render-seconds", type=float, default=60.0)
    p.add_argument("--minutes", type=float, default=60.0)
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    startup = measure_startup(args.startup_runs)
    vis, loaded = zip(*startup)
    print(f"startup ({len(startup)} runs): window visible after {min(vis):.2f}-{max(vis):.2f} s, "
          f"model loaded after {min(loaded):.2f}-{max(loaded):.2f} s")
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):  # no recovery question from
            os.environ[var] = tmp  # the user's own crashed sessions: a modal dialog would wait forever
        r = measure_render_stalls(app, args.render_seconds)
        print(f"render of {r['frames']} frames ({r['frames'] * 0.08:.1f} s audio) in {r['seconds']:.1f} s: "
              f"event-loop stall p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms")
        d = measure_redraw(app, args.minutes)
        print(f"redraw of all panes over a {d['minutes']:.0f}-minute timeline: zoom median {d['zoom_median']:.1f} ms "
              f"(max {d['zoom_max']:.1f}), pan median {d['pan_median']:.1f} ms (max {d['pan_max']:.1f}); "
              f"first layout of the hour {d['first_layout']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

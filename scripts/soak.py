"""Soak run: a whole episode (30 minutes by default) rendered end to end in the studio with the
built-in model, then saved as a project and exported loudness-normalised with chapters and subtitles.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/soak.py [--minutes 30] [--out DIR]

Prints the total time, the peak memory of the process, how late the GUI event loop ever was while
rendering (a 4 ms probe timer: p50 / p99 / max), and the save and export times.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np

SENTENCES = [
    "Welcome back to the show, where we take one idea and follow it as far as it goes.",
    "Today the idea is sound: how a voice is made, and how a machine can learn to make one.",
    "It starts with a waveform, a long list of numbers that rise and fall thousands of times a second.",
    "A codec squeezes those numbers into a short code for every eighty milliseconds of speech.",
    "Then a model reads the text and writes the codes, one frame after another, like a typist.",
    "On March 3rd, 2026, at 4:15 in the afternoon, the first test sentence came out clearly.",
    "Is it perfect? No. But it is fast, it runs on a laptop, and it never gets tired.",
    "Numbers are hard: 1,234 apples, 56 pears and 7.5 kilograms of flour all need words.",
]
TICK_MS = 4
STALL_MS = 150


class StallWatchdog(threading.Thread):
    """Samples where the GUI thread is whenever the probe timer has not ticked for STALL_MS: the
    innermost frames of our own code, so a stall names its cause."""

    def __init__(self, last_tick: list[float]) -> None:
        super().__init__(daemon=True)
        self.last_tick, self.places = last_tick, collections.Counter()
        self.main_id, self._stop = threading.main_thread().ident, threading.Event()
        self.start()

    def run(self) -> None:
        while not self._stop.wait(0.05):
            if (time.perf_counter() - self.last_tick[0]) * 1000 < STALL_MS:
                continue
            frame = sys._current_frames().get(self.main_id)
            ours = [f for f, _ in traceback.walk_stack(frame) if "/studio/" in f.f_code.co_filename]
            if ours:
                self.places[" <- ".join(f"{Path(f.f_code.co_filename).name}:{f.f_code.co_name}"
                                        for f in ours[:3])] += 1

    def stop(self) -> None:
        self._stop.set()


def script(paragraphs: int) -> str:
    parts = []
    for i in range(paragraphs):
        if i % 10 == 0:
            parts.append(f"# Chapter {i // 10 + 1}")
        speaker = "Host" if i % 3 else "Guest"
        a, b = SENTENCES[i % len(SENTENCES)], SENTENCES[(i * 3 + 1) % len(SENTENCES)]
        parts.append(f"{speaker}: {a} {b}")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--out", default=None, help="where the project and the export go (default: a temp folder)")
    args = p.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="timbre-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        os.environ[var] = str(out / var.lower())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtWidgets

    from studio.app import build_studio
    from studio.episode_export import ExportOptions, export_episode
    from studio.settings import Settings, save

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    settings_file = out / "settings.json"
    save(Settings(text=script(1), sampler={"max_seconds": 60.0}), settings_file)
    t_start = time.perf_counter()
    studio = build_studio(settings_file=settings_file)
    w = studio.window
    w.projects.ask = lambda title, text, buttons, default: "Discard"
    w.resize(1400, 900)
    w.show()
    studio.start_engine()
    while w.info is None:
        app.processEvents()
        time.sleep(0.01)
    print(f"model {w.info.name} on {w.info.device}", flush=True)

    def run_until_idle() -> None:
        loop = QtCore.QEventLoop()
        w.queue.idle.connect(loop.quit)
        loop.exec()
        w.queue.idle.disconnect(loop.quit)

    # one soak paragraph first, to size the script for the wanted length (an untrained model talks longer)
    w.render_all()
    run_until_idle()
    per_paragraph = max(w.timeline.duration, 1.0)
    paragraphs = max(1, int(np.ceil(args.minutes * 60 / per_paragraph)))
    w.projects.new(script(paragraphs))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - TICK_MS)
        last[0] = now

    watchdog = StallWatchdog(last)
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.PreciseTimer)
    timer.timeout.connect(tick)
    t0 = time.perf_counter()
    w.render_all()
    timer.start(TICK_MS)
    run_until_idle()
    timer.stop()
    watchdog.stop()
    render_s = time.perf_counter() - t0
    audio_s = w.timeline.duration
    stalls = np.maximum(np.array(gaps[5:]), 0.0)
    t1 = time.perf_counter()
    w.projects.save_as(str(out / "episode.timbre"))
    save_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    result = export_episode(w.timeline, ExportOptions(out / "episode.flac", target_lufs=-16.0, per_chapter=True))
    export_s = time.perf_counter() - t2
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    takes = sum(len(q.takes) for q in w.project.paragraphs)
    print(f"episode: {paragraphs} paragraphs in {len(w.timeline.chapters)} chapters, {audio_s / 60:.1f} min of audio, "
          f"{takes} takes")
    print(f"render: {render_s / 60:.1f} min (real-time factor {render_s / audio_s:.3f})")
    print(f"event loop while rendering: stall p50 {np.percentile(stalls, 50):.1f} ms, p99 "
          f"{np.percentile(stalls, 99):.1f} ms, max {stalls.max():.1f} ms over {len(stalls)} ticks")
    for where, n in watchdog.places.most_common(5):
        print(f"  GUI thread busy > {STALL_MS} ms, seen {n}x in: {where}")
    print(f"save as project: {save_s:.1f} s ({sum(f.stat().st_size for f in (out / 'episode.timbre').rglob('*')) / 1e6:.0f} MB)")
    r = result.loudness
    print(f"export (FLAC, -16 LUFS, chapters, SRT/VTT, per chapter): {export_s:.1f} s, {len(result.files)} files; "
          f"loudness {r.before_lufs:.1f} -> {r.after_lufs:.1f} LUFS, true peak {r.true_peak_db:.1f} dBTP")
    print(f"peak memory (RSS): {peak_mb:.0f} MB; total {(time.perf_counter() - t_start) / 60:.1f} min; "
          f"load average {os.getloadavg()[0]:.2f}")
    w.close()
    studio.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

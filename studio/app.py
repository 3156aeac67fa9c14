"""Composition root: logging and the crash dialog first, then settings, the engine thread, the
window, and the wiring between them.

    python -m studio [--model NAME|DIR] [--device auto|cpu|cuda[:N]]
                     [--render-to OUT.wav] [--play] [--screenshot OUT.png]

``--render-to`` / ``--play`` / ``--screenshot`` render every paragraph of the saved script once the
model is loaded, write the whole script's audio, play it to the end on the output device (and/or
save a picture of the window) and quit: a headless smoke test of the whole app.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6 import QtCore, QtGui, QtWidgets

from engine import EngineConfig, EngineWorker, __version__
from engine.bundled import assets_dir
from studio import exports
from studio import settings as settings_store
from studio.engine_bridge import EngineBridge
from studio.main_window import MainWindow
from studio.playback import Player

log = logging.getLogger("studio")
LOG_BYTES, LOG_BACKUPS = 1_000_000, 3
PLAY_GRACE_S = 10.0  # --play: how long past the script's length playback may take to finish
DESKTOP_NAME = "timbre-studio"  # the desktop entry (packaging/linux/) and the icon's name


def log_path() -> Path:
    return platformdirs.user_log_path(settings_store.APP_NAME) / "studio.log"


def app_icon() -> QtGui.QIcon:
    """The app's icon in all its drawn sizes (assets/icons/hicolor/<N>x<N>/apps/)."""
    icon = QtGui.QIcon()
    for png in sorted((assets_dir() / "icons" / "hicolor").glob(f"*/apps/{DESKTOP_NAME}.png")):
        icon.addFile(str(png))
    return icon


def setup_logging() -> Path:
    """A rotating log file under the platform's log folder, plus warnings on stderr."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                       encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
        root.addHandler(handler)
    return path


class CrashReporter:
    """sys.excepthook: log the traceback and tell the user where the log is (the app keeps running)."""

    def __init__(self, log_file: Path, show_dialog: bool = True, on_error=None) -> None:
        self.log_file, self.show_dialog, self.on_error = log_file, show_dialog, on_error
        self.last_message = ""

    def __call__(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QtWidgets.QApplication.quit()
            return
        text = "".join(traceback.format_exception(kind, value, tb))
        log.critical("unexpected error:\n%s", text)
        self.last_message = (f"Timbre Studio hit an unexpected error: {kind.__name__}: {value}\n\n"
                             f"Your work is still open. The details are in the log:\n{self.log_file}")
        if self.on_error is not None:
            self.on_error(self.last_message)
        if self.show_dialog and QtWidgets.QApplication.instance() is not None:
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Critical, "Timbre Studio: unexpected error",
                                        self.last_message)
            box.setDetailedText(text)
            box.exec()


@dataclass
class Studio:
    """Everything the app wires together (tests build one with ``build_studio``)."""

    window: MainWindow
    bridge: EngineBridge
    player: Player
    settings: settings_store.Settings
    settings_file: Path

    def start_engine(self) -> None:
        self.bridge.start()

    def save_settings(self) -> None:
        try:
            settings_store.save(self.window.collect_settings(), self.settings_file)
        except Exception:
            log.exception("could not save settings to %s", self.settings_file)

    def close(self) -> None:
        """Save, stop playback and the engine thread (bounded wait)."""
        self.save_settings()
        self.player.stop()
        self.bridge.shutdown()


def build_studio(model: str | None = None, device: str | None = None, settings_file: Path | None = None,
                 threads: int | None = None) -> Studio:
    """Create the window. The caller shows it, then calls ``start_engine`` (the model loads on the
    engine thread, after the window is on screen)."""
    # PySide releases the GIL around every Qt call; with the default 5 ms switch interval the GUI
    # thread then waits up to 5 ms per call to get it back from the engine thread (a convoy: a
    # repaint of a few hundred Qt calls stalled for seconds during renders). 1 ms bounds that.
    sys.setswitchinterval(0.001)
    settings_file = settings_file or settings_store.settings_path()
    loaded = settings_store.load(settings_file)
    s = loaded.settings
    worker = EngineWorker(EngineConfig(model=model or s.model, device=device or s.device, threads=threads))
    bridge = EngineBridge(worker)
    player = Player(s.output_device)
    window = MainWindow(bridge, player, s)
    studio = Studio(window, bridge, player, s, settings_file)
    window.closing.connect(studio.close)
    window.projects.start()
    if loaded.message:
        window.statusBar().showMessage(loaded.message, 15_000)
    return studio


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="timbre studio", description="Timbre Studio desktop app")
    p.add_argument("--model", help="built-in model name or model folder")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--render-to", help="render the script, write this WAV/FLAC and quit")
    p.add_argument("--play", action="store_true", help="render the script, play it to the end and quit")
    p.add_argument("--screenshot", help="after loading (and rendering), save a picture of the window and quit")
    p.add_argument("--probe-startup", action="store_true",
                   help="print when the window was visible and the model loaded (seconds since $TIMBRE_T0), quit")
    p.add_argument("--version", action="version", version=f"timbre studio {__version__}")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    log_file = setup_logging()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    log.info("Timbre Studio %s starting (Python %s, Qt platform %s)", __version__, sys.version.split()[0],
             app.platformName())
    app.setApplicationName("Timbre Studio")
    app.setOrganizationName("Timbre")
    app.setDesktopFileName(DESKTOP_NAME)  # Wayland's app id: the desktop shows the entry's name and icon
    app.setWindowIcon(app_icon())
    headless = bool(args.render_to or args.screenshot or args.play)
    result = {"code": 0}

    def headless_error(message: str) -> None:  # no one is there to close a dialog
        print(f"timbre studio: error: {message}", file=sys.stderr)
        result["code"] = 1
        app.quit()

    sys.excepthook = CrashReporter(log_file, show_dialog=not headless, on_error=headless_error if headless else None)
    studio = build_studio(args.model, args.device)
    studio.window.show()
    log.info("init finished: window shown")
    QtCore.QTimer.singleShot(0, studio.start_engine)  # after the first paint: the window never waits for torch
    if headless:
        studio.window.projects.ask = lambda title, text, buttons, default: "Discard"  # no one to answer
    else:
        QtCore.QTimer.singleShot(200, studio.window.projects.offer_recovery)
    if headless:
        _run_headless(studio, args, result)
    if args.probe_startup:
        _probe_startup(studio, result)
    app.aboutToQuit.connect(studio.bridge.shutdown)
    app.exec()
    studio.bridge.shutdown()
    QtCore.QCoreApplication.sendPostedEvents()  # nothing queued may outlive the event loop
    return result["code"]


def _probe_startup(studio: Studio, result: dict[str, int]) -> None:
    """Startup benchmark: seconds from $TIMBRE_T0 (the launcher's clock) to a painted window, then to a
    loaded model; printed as one JSON line, then quit."""
    import json
    import os

    t0 = float(os.environ.get("TIMBRE_T0", time.time()))
    times: dict[str, float] = {}

    def visible() -> None:
        times["visible"] = time.time() - t0

    def loaded(_info) -> None:
        times["loaded"] = time.time() - t0
        print("startup " + json.dumps(times), flush=True)
        studio.window.close()

    def failed(message: str) -> None:  # nobody waits on a model that never loads
        print(f"timbre studio: error: the model did not load: {message}", file=sys.stderr, flush=True)
        result["code"] = 1
        studio.window.close()

    QtCore.QTimer.singleShot(0, visible)  # runs once the first paint has been processed
    studio.bridge.loaded.connect(loaded)
    studio.bridge.load_failed.connect(failed)


def _run_headless(studio: Studio, args: argparse.Namespace, result: dict[str, int]) -> None:
    """Render once the model is ready, write the outputs, quit (exit 1 with a message on failure)."""
    w = studio.window

    def fail(message: str) -> None:
        print(f"timbre studio: error: {message}", file=sys.stderr)
        result["code"] = 1
        w.close()

    def finish() -> None:
        if args.render_to and exports.export_timeline_audio(w, args.render_to) is None:
            return fail(w.error_label.text() or "export failed")
        if not args.play:
            return picture_and_close()
        if not w.transport.play(0.0):
            return fail(w.error_label.text() or "playback failed")
        deadline = time.monotonic() + w.timeline.duration + PLAY_GRACE_S
        poll = QtCore.QTimer(w)

        def played() -> None:
            if not w.transport.playing:
                poll.stop()
                picture_and_close()
            elif time.monotonic() > deadline:
                poll.stop()
                fail(f"playback did not finish within {PLAY_GRACE_S:.0f} s of the script's end")

        poll.timeout.connect(played)
        poll.start(50)

    def picture_and_close() -> None:
        if args.screenshot:
            QtCore.QTimer.singleShot(300, lambda: (w.grab().save(args.screenshot), w.close()))
        else:
            w.close()

    studio.bridge.load_failed.connect(fail)
    w.queue.failed.connect(lambda pid, message: fail(message))
    w.queue.idle.connect(lambda: QtCore.QTimer.singleShot(300, finish))
    studio.bridge.loaded.connect(lambda info: QtCore.QTimer.singleShot(0, w.render_all))

"""Screenshots of the studio for the README: after a render, with a frame selected, light and dark;
then the voice presets: the creation dialog (clips made with flite), the library dock and a blind
audition before and after the pick.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py docs/screenshots
    (or QT_QPA_PLATFORM=offscreen, whose screen is only 800 px wide)

Uses a temporary settings folder, the built-in model on the CPU, and a fixed seed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = ("Welcome to Timbre Studio. Every paragraph is rendered on its own, one frame every eighty "
          "milliseconds.\n\nRegenerate a paragraph and the old take stays: compare them A/B, keep the one "
          "you like.\n\nClick any frame in the latent timeline to hear it and to see its flow trajectory.")


VOICE_LINES = {
    "slt": "Welcome to the Acme hour. Today we talk about sound, about voices, and about the small things that "
           "make a brand feel warm and familiar to the people who hear it every day.",
    "awb": "Good evening. This is the late news from Acme radio, with the weather, the roads and the stories "
           "that mattered today, read slowly and clearly for everyone listening at home.",
}


def settle(app, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


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
    save(Settings(text=SCRIPT, sampler={"max_seconds": 20.0, "seed": 7, "seed_locked": True}), settings_file)
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
        settle(app)
        path = out / f"studio-{theme}.png"
        w.grab().save(str(path))
        print(f"wrote {path} ({w.width()}x{w.height()})")
    w.set_theme("light")
    if shutil.which("flite"):
        voice_shots(app, w, out, Path(tmp))
    else:
        print("flite is not installed: no voice screenshots")
    # The rendered script is a throwaway: answer "Discard" to the unsaved-changes question, whose
    # modal box would otherwise wait forever for a click that never comes.
    w.projects.ask = lambda title, text, buttons, default: "Discard"
    w.close()
    studio.close()
    return 0


def voice_shots(app, w, out: Path, tmp: Path) -> None:
    """The creation dialog with its analysis and region, the library dock, a blind audition."""
    clips = []
    for voice, text in VOICE_LINES.items():
        clip = tmp / f"{voice}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(clip)], check=True)
        clips.append(clip)
    made = []
    for i, clip in enumerate(clips):
        dialog = w.voices.open_create()
        dialog.resize(1100, 700)
        dialog.add_clips([clip])
        wait(app, lambda: dialog.prepared is not None and not dialog.busy, 60)
        dialog.meta.name.setText(("Aurora — warm narrator", "Boreas — evening news")[i])
        dialog.meta.language.setText("en")
        dialog.meta.tags.setText(("warm, narration", "news, calm")[i])
        dialog.meta.brand.setText("Acme")
        if i == 0:
            dialog.consent.fill("Sam Taylor", "I agree that Acme may make and use a synthetic voice from "
                                "these recordings for its podcasts.", "signed release")
            settle(app)
            dialog.grab().save(str(out / "voice-create.png"))
            print(f"wrote {out / 'voice-create.png'}")
        else:
            dialog.consent.declined.setChecked(True)
        dialog.create()
        wait(app, lambda: dialog.preset is not None, 120)
        made.append(dialog.preset)
    w.voices.show_library()
    w.voices.panel.select(made[1].id)
    settle(app)
    w.grab().save(str(out / "voice-library.png"))
    print(f"wrote {out / 'voice-library.png'}")
    audition = w.voices.open_audition()
    audition.check([p.id for p in made])
    audition.text.setText("Acme: sound that fits the way you work.")
    audition.seed.setValue(7)
    audition.start()
    wait(app, lambda: audition.audition.ready, 300)
    settle(app)
    audition.grab().save(str(out / "voice-audition-blind.png"))
    audition.pick("A")
    settle(app)
    audition.grab().save(str(out / "voice-audition-revealed.png"))
    print(f"wrote {out / 'voice-audition-blind.png'} and {out / 'voice-audition-revealed.png'}")
    audition.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))

"""Smoke test of what people install (``make package-test``), each in a fresh place, away from this
checkout, with its own user folders and headless Qt:

- the frozen app (dist/timbre-studio-*.tar.gz): unpack it; ``--version``; ``models`` lists the built-in
  models from inside the unpacked folder; ``say`` renders a short phrase; the studio opens its window,
  renders the saved script, writes its audio, plays it through PortAudio to an ALSA device that
  records to a file (the recording must be that audio), saves a picture of the window, closes and
  exits 0, and its log says the window was shown; the startup time (window visible) over a few
  launches; the desktop entry installs into a scratch XDG_DATA_HOME;
- the wheel (dist/timbre_studio-*.whl): a fresh venv with torch 2.13.0 (the CPU wheel) installed first,
  then the wheel; ``timbre --version``; ``timbre models`` finds the models inside the venv;
  ``timbre say`` renders a short phrase; ``timbre studio`` renders the saved script headless.

Every WAV is checked: finite, non-silent, not clipped, and exactly as long as its frames (80 ms each)
and no longer than asked. Prints what it did and measured; exit 0 when everything passed.

    .venv/bin/python packaging/smoke_test.py [--artifact T.tar.gz] [--wheel W.whl] [--only frozen|wheel]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
PHRASE = "Hello there, this is a short test."
MAX_SECONDS = 2.0
FRAME_RATE = 12.5  # frames per second of every model family
STARTUP_RUNS = 3
STARTUP_TARGET_S = 3.0
TORCH_PIN = "torch==2.13.0"


class SmokeFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def clean_env(home: Path) -> dict[str, str]:
    """The user's environment without anything that points back at this checkout, with user folders
    (settings, logs, data) under ``home`` and Qt offscreen."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TIMBRE_ASSETS", "TIMBRE_PRESETS", "TIMBRE_T0")}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def run(cmd: list[str | Path], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    shown = " ".join(str(c) for c in cmd)
    t0 = time.monotonic()
    out = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    print(f"  $ {shown}\n    exit {out.returncode} in {time.monotonic() - t0:.1f} s", flush=True)
    if out.returncode != 0:
        raise SmokeFailure(f"{shown} failed (exit {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return out


def check_wav(path: Path, frames: int | None = None) -> str:
    """Speech-shaped audio: finite, non-silent, not clipped, a whole number of 80 ms frames
    (``frames`` of them when known), no longer than MAX_SECONDS. Returns a one-line summary."""
    check(path.is_file(), f"{path} was not written")
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    hop = rate / FRAME_RATE
    check(hop == int(hop), f"{path}: {rate} Hz is not a whole number of samples per frame")
    n = len(audio)
    check(n > 0 and n % int(hop) == 0, f"{path}: {n} samples is not a whole number of {int(hop)}-sample frames")
    if frames is not None:
        check(n == frames * int(hop), f"{path}: {n} samples for {frames} frames (expected {frames * int(hop)})")
    check(n / rate <= MAX_SECONDS + 1e-9, f"{path}: {n / rate:.2f} s, longer than the {MAX_SECONDS} s asked")
    check(bool(np.isfinite(audio).all()), f"{path}: not finite")
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    peak = float(np.abs(audio).max())
    clipped = float(np.mean(np.abs(audio) >= 0.999))
    check(rms > 1e-3, f"{path}: silent (RMS {rms:.2e})")
    check(clipped < 0.01, f"{path}: {clipped:.1%} of samples clipped")
    return (f"{path.name}: {n / rate:.2f} s = {n // int(hop)} frames x {int(hop)} samples at {rate} Hz, "
            f"RMS {20 * np.log10(rms):.1f} dBFS, peak {peak:.2f}, clipped {clipped:.2%}")


def capture_playback(env: dict[str, str], folder: Path, rate: int) -> Path:
    """Point ALSA's default device at a file (raw 16-bit mono at ``rate``) instead of a sound card."""
    raw, conf = folder / "played.raw", folder / "asound.conf"
    conf.write_text(f"""
pcm.!default {{ type plug  slave {{ pcm "tee"  format S16_LE  rate {rate}  channels 1 }} }}
pcm.tee {{ type file  slave.pcm "null"  file "{raw}"  format "raw" }}
""")
    env["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    return raw


def check_played(raw: Path, wav: Path) -> str:
    """What reached the device is the file's audio (after any silence the device primes with)."""
    check(raw.is_file() and raw.stat().st_size > 0, "nothing was played")
    played = np.frombuffer(raw.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    audio, rate = sf.read(str(wav), dtype="float32")
    lag = int(np.argmax(np.abs(played) > 1e-3)) - int(np.argmax(np.abs(audio) > 1e-3))
    check(lag >= 0 and len(played) >= lag + len(audio), f"played {len(played)} samples, fewer than {len(audio)}")
    error = float(np.abs(played[lag:lag + len(audio)] - audio).max())
    check(error <= 2 / 32768, f"what was played differs from {wav.name} by up to {error:.2e}")
    return (f"played: {len(audio) / rate:.2f} s through PortAudio and ALSA, equal to {wav.name} "
            f"(after {lag} samples of device priming)")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


def said_frames(stderr: str) -> int:
    m = re.search(r"wrote .* \(([\d.]+) s, (\d+) frames\)", stderr)
    check(m is not None, f"`say` did not report what it wrote:\n{stderr[-1000:]}")
    return int(m.group(2))


def write_settings(env: dict[str, str]) -> None:
    """A short one-paragraph script and a capped length, as the studio's saved settings."""
    folder = Path(env["XDG_CONFIG_HOME"]) / "timbre-studio"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(
        {"schema_version": 1, "text": PHRASE, "sampler": {"max_seconds": MAX_SECONDS}}), encoding="utf-8")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "n/a"


def voice_round_trip(program: Path, env: dict[str, str], cwd: Path, work: Path) -> str:
    """A voice preset from a clip (the clip pipeline, the codec encoder, the library), rendered with."""
    t = np.arange(int(12.0 * 16000)) / 16000
    syllables = (np.sin(2 * np.pi * 3.0 * t) > -0.3) * (np.sin(2 * np.pi * 0.25 * t) > -0.8)  # bursts and pauses
    clip = (0.3 * np.sin(2 * np.pi * 140 * t) * np.sin(2 * np.pi * 700 * t) * syllables).astype(np.float32)
    sf.write(work / "clip.wav", clip, 16000)
    run([program, "voice", "create", "Smoke", work / "clip.wav", "--no-consent"], env, cwd)
    run([program, "say", PHRASE, "--voice", "preset:smoke", "-o", work / "voice.wav", "--max-seconds", "1"], env, cwd)
    listed = run([program, "voice", "list"], env, cwd).stdout
    check("smoke" in listed and "NO CONSENT RECORD" in listed, f"`voice list` does not show the new preset:\n{listed}")
    return "voice create -> say --voice preset:smoke: " + check_wav(work / "voice.wav")


def smoke_frozen(artifact: Path, work: Path) -> dict:
    print(f"\n== frozen app: {artifact.name} ({artifact.stat().st_size / 1e6:.1f} MB)")
    unpacked = work / "unpacked"
    with tarfile.open(artifact) as tar:
        tar.extractall(unpacked, filter="data")  # keeps the executable bits, refuses paths outside
    (top,) = unpacked.iterdir()
    program = top / "timbre-studio"
    check(program.is_file() and os.access(program, os.X_OK), f"{program} is missing or not executable")
    env = clean_env(work / "home")
    write_settings(env)
    cwd = work  # nowhere near the checkout

    print("    " + run([program, "--version"], env, cwd).stdout.strip())
    models = run([program, "models"], env, cwd).stdout
    bundled = top / "_internal" / "engine" / "_bundled" / "assets"
    check(str(bundled) in models, f"`models` did not list models from {bundled}:\n{models}")
    print("    " + models.strip().replace("\n", "\n    "))

    said = run([program, "say", PHRASE, "-o", work / "say.wav", "--max-seconds", str(MAX_SECONDS)], env, cwd)
    print("    " + check_wav(work / "say.wav", said_frames(said.stderr)))

    print("    " + voice_round_trip(program, env, cwd, work))

    played = capture_playback(env, work, sf.info(str(work / "say.wav")).samplerate)  # the model's rate: no resampling
    run([program, "--render-to", work / "studio.wav", "--play", "--screenshot", work / "studio.png"], env, cwd)
    print("    " + check_wav(work / "studio.wav"))
    print("    " + check_played(played, work / "studio.wav"))
    width, height = png_size(work / "studio.png")
    check(width >= 400 and height >= 300, f"window picture is {width}x{height}")
    print(f"    studio.png: {width}x{height}")
    log_file = Path(env["XDG_STATE_HOME"]) / "timbre-studio" / "log" / "studio.log"
    check(log_file.is_file(), f"no log at {log_file}")
    log = log_file.read_text(encoding="utf-8")
    check("init finished: window shown" in log, "the log does not say the window was shown")
    check("CRITICAL" not in log and "Traceback" not in log, f"the log reports an error:\n{log[-2000:]}")
    print("    log: window shown, no errors")

    visible, loaded = [], []
    for _ in range(STARTUP_RUNS):
        env_t0 = {**env, "TIMBRE_T0": repr(time.time())}
        out = run([program, "--probe-startup"], env_t0, cwd, timeout=120).stdout
        m = re.search(r"^startup (\{.*\})$", out, re.MULTILINE)
        check(m is not None, f"--probe-startup printed no timing:\n{out}")
        times = json.loads(m.group(1))
        visible.append(times["visible"])
        loaded.append(times["loaded"])
    startup = {"visible_s": statistics.median(visible), "loaded_s": statistics.median(loaded),
               "visible_runs_s": [round(v, 2) for v in visible], "load_average": load_average()}
    verdict = "met" if startup["visible_s"] < STARTUP_TARGET_S else "MISSED"
    print(f"    startup over {STARTUP_RUNS} launches (median): window visible {startup['visible_s']:.2f} s "
          f"(runs {', '.join(f'{v:.2f}' for v in visible)}), model loaded {startup['loaded_s']:.2f} s; "
          f"target {STARTUP_TARGET_S} s {verdict} (load average {startup['load_average']})")

    data_home = Path(env["XDG_DATA_HOME"])
    run(["sh", top / "install-desktop-entry.sh"], env, cwd)
    entry = (data_home / "applications" / "timbre-studio.desktop").read_text(encoding="utf-8")
    check(f'Exec="{program}"' in entry, f"the installed desktop entry does not run {program}:\n{entry}")
    check((data_home / "icons" / "hicolor" / "48x48" / "apps" / "timbre-studio.png").is_file(), "icons not installed")
    run(["sh", top / "install-desktop-entry.sh", "--uninstall"], env, cwd)
    check(not (data_home / "applications" / "timbre-studio.desktop").exists(), "desktop entry not removed")
    print("    desktop entry: installed (Exec points into the unpacked folder, icons in hicolor), removed")
    return startup


def smoke_wheel(wheel: Path, work: Path) -> None:
    print(f"\n== wheel: {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB), in a fresh venv")
    work.mkdir(parents=True)
    env = clean_env(work / "home")
    venv = work / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    run([base_python, "-m", "venv", venv], env, work)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run([*pip, TORCH_PIN, "setuptools>=77,<81"], env, work, timeout=900)  # first: the CPU wheel, never CUDA
    run([*pip, wheel], env, work, timeout=900)
    torch_version = run([venv / "bin" / "python", "-c", "import torch; print(torch.__version__)"], env, work).stdout
    check(torch_version.strip().startswith("2.13.0") and "cu" not in torch_version,
          f"the venv's torch is {torch_version.strip()}, not the 2.13.0 CPU build")
    nvidia = run([venv / "bin" / "python", "-m", "pip", "list", "--format=freeze"], env, work).stdout
    check("nvidia-" not in nvidia, "CUDA libraries (nvidia-*) were installed")
    timbre = venv / "bin" / "timbre"
    version = run([timbre, "--version"], env, work).stdout.strip()
    check(version.startswith("timbre "), f"unexpected --version output {version!r}")
    print(f"    {version}; torch {torch_version.strip()}")
    models = run([timbre, "models"], env, work).stdout
    check(str(venv) in models and "_bundled" in models, f"`timbre models` listed no models inside the venv:\n{models}")
    print("    " + models.strip().replace("\n", "\n    "))
    said = run([timbre, "say", PHRASE, "-o", work / "say.wav", "--max-seconds", str(MAX_SECONDS)], env, work)
    print("    " + check_wav(work / "say.wav", said_frames(said.stderr)))
    write_settings(env)
    run([timbre, "studio", "--", "--render-to", work / "studio.wav"], env, work)
    print("    " + check_wav(work / "studio.wav"))


def newest(pattern: str) -> Path | None:
    found = sorted(DIST.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Smoke test of the built artifacts (see the module docstring).")
    p.add_argument("--artifact", type=Path, help="the frozen app's tarball (default: newest in dist/)")
    p.add_argument("--wheel", type=Path, help="the wheel (default: newest in dist/)")
    p.add_argument("--only", choices=("frozen", "wheel"))
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = p.parse_args(argv)
    artifact = args.artifact or newest("timbre-studio-*.tar.gz")
    wheel = args.wheel or newest("timbre_studio-*.whl")
    work = Path(tempfile.mkdtemp(prefix="timbre-smoke-"))
    try:
        if args.only != "wheel":
            check(artifact is not None, f"no frozen app in {DIST}: run `make package` first")
            smoke_frozen(artifact, work / "frozen")
        if args.only != "frozen":
            check(wheel is not None, f"no wheel in {DIST}: run `make package` first")
            smoke_wheel(wheel, work / "wheel")
    except (SmokeFailure, subprocess.TimeoutExpired) as e:
        print(f"\nsmoke test FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"(scratch folder kept: {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\nsmoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

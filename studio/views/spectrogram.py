"""The spectrogram pane: each shown take's spectrogram in dB mapped to 8 bits (an hour of speech is
~46 MB), at three levels of detail. Columns are computed a chunk at a time within a small budget per
repaint tick, for the takes in view only, and the pane draws one screen-sized picture of the visible
range sampled from them, so neither a long render nor an hour of takes ever stalls the window."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg

from studio.models.selection import Selection
from studio.models.timeline import Segment, Timeline
from studio.views.time_pane import TimePane
from studio.views.viewport import ViewportImage, columns_under, pixel_times, rgba_lut

BUDGET_SECONDS = 0.003  # spectrogram work per repaint tick; the rest waits for the next tick
CHUNK_FRAMES = 150  # columns per step (~1.5 ms): the budget is overshot by at most one step
HOP_FACTORS = (1, 8, 64)  # levels of detail: a column every 10, 80 and 640 ms (zoomed out, the
# picture needs one column per pixel, not every 10 ms of an hour)
N_FFT = 512
BINS = N_FFT // 4  # neighbouring FFT bins are averaged in pairs: half the memory, plenty for a view
HOP_SECONDS = 0.01
FLOOR_DB = -80.0
_WINDOW = np.hanning(N_FFT).astype(np.float32)


def spectrogram_u8(audio: np.ndarray, sample_rate: int, first_frame: int = 0,
                   max_frames: int | None = None, hop_factor: int = 1) -> np.ndarray:
    """audio [n] -> uint8 [BINS, frames] (one frame per 10 ms x ``hop_factor``): 0 = FLOOR_DB, 255 = 0 dB.

    Only whole frames are computed, from ``first_frame`` on (at most ``max_frames`` of them), so a
    growing buffer can be extended and a long one computed in steps.
    """
    hop = _hop(sample_rate) * hop_factor
    x = np.asarray(audio, dtype=np.float32)
    frames = max(0, 1 + (len(x) - N_FFT) // hop) - first_frame
    if max_frames is not None:
        frames = min(frames, max_frames)
    if frames <= 0:
        return np.zeros((BINS, 0), dtype=np.uint8)
    idx = np.arange(N_FFT)[None, :] + hop * (first_frame + np.arange(frames))[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * _WINDOW, axis=1))  # (frames, N_FFT / 2 + 1)
    spec = 0.5 * (spec[:, 0:N_FFT // 2:2] + spec[:, 1:N_FFT // 2:2])  # (frames, BINS)
    db = 20 * np.log10(np.maximum(spec * (4.0 / N_FFT), 1e-6))
    return ((np.clip(db, FLOOR_DB, 0.0) - FLOOR_DB) * (255.0 / -FLOOR_DB)).astype(np.uint8).T


def _hop(sample_rate: int) -> int:
    return max(1, int(sample_rate * HOP_SECONDS))


def total_frames(n_samples: int, sample_rate: int, hop_factor: int = 1) -> int:
    return max(0, 1 + (n_samples - N_FFT) // (_hop(sample_rate) * hop_factor))


class _TakeSpectrum:
    """One take's spectrogram at each level of detail, and how far each has been computed."""

    def __init__(self) -> None:
        self.reset(None, -1)

    def reset(self, source: object, generation: int) -> None:
        self.source, self.generation = source, generation
        self.levels = [np.zeros((BINS, 0), dtype=np.uint8) for _ in HOP_FACTORS]

    def missing(self, level: int) -> int:
        src = self.source
        return total_frames(len(src.audio), src.sample_rate, HOP_FACTORS[level]) - self.levels[level].shape[1]

    def extend(self, level: int) -> None:
        src, have = self.source, self.levels[level]
        more = spectrogram_u8(src.audio, src.sample_rate, have.shape[1], CHUNK_FRAMES, HOP_FACTORS[level])
        self.levels[level] = np.concatenate([have, more], axis=1)


class SpectrogramView(TimePane):
    def __init__(self, timeline: Timeline, selection: Selection, parent=None) -> None:
        super().__init__(timeline, selection, "spectrogram", parent)
        self.setLabel("left", "kHz")
        self.hideAxis("bottom")  # the latent pane below carries the time axis (and an axis costs ~1 ms a paint)
        self.cmap = pg.colormap.get("inferno")
        self._lut = rgba_lut(self.cmap)
        self._takes: dict[str, _TakeSpectrum] = {}  # paragraph id -> its shown take's spectrogram
        self._version = -1  # the timeline version the takes were matched at
        self._top = 8.0  # kHz at the top of the pane
        self._visible: list[_TakeSpectrum] = []  # the takes in view, and the level drawn
        self._shown_level = 0
        self.picture = ViewportImage(self)
        self.setYRange(0.0, 8.0, padding=0.0)

    def set_colormap(self, name: str) -> None:
        self.cmap = pg.colormap.get(name)
        self._lut = rgba_lut(self.cmap)
        self._seen = None

    def image_of(self, pid: str, level: int = 0) -> np.ndarray | None:
        """A paragraph's shown take as uint8 [BINS, columns] at a level of detail (0 = every 10 ms)."""
        spec = self._takes.get(pid)
        return None if spec is None or not spec.levels[level].shape[1] else spec.levels[level]

    @property
    def complete(self) -> bool:
        """Every shown take is computed to its end at every level, from the take the timeline shows
        now (a finished render replaces its live source; until the next tick the image is stale)."""
        segs = self.timeline.segments
        if len(self._takes) != len(segs):
            return False
        for seg in segs:
            spec = self._takes.get(seg.paragraph_id)
            if (spec is None or spec.source is not seg.source
                    or spec.generation != getattr(seg.source, "generation", 0)
                    or any(spec.missing(level) for level in range(len(HOP_FACTORS)))):
                return False
        return True

    @staticmethod
    def level_for(seconds_per_pixel: float) -> int:
        """The coarsest level whose columns are no further apart than a pixel."""
        fits = [i for i, f in enumerate(HOP_FACTORS) if f * HOP_SECONDS <= seconds_per_pixel]
        return fits[-1] if fits else 0

    def repaint_content(self) -> None:
        segs = self.timeline.segments
        if self._version != self.timeline.version:  # takes changed or grew: match them up again
            self._version = self.timeline.version
            shown = {s.paragraph_id for s in segs}
            self._takes = {pid: spec for pid, spec in self._takes.items() if pid in shown}
            for seg in segs:
                spec = self._takes.setdefault(seg.paragraph_id, _TakeSpectrum())
                gen = getattr(seg.source, "generation", 0)
                if spec.source is not seg.source or spec.generation != gen or spec.missing(0) < 0:
                    spec.reset(seg.source, gen)
            self._top = max([8.0] + [seg.source.sample_rate / 2000 for seg in segs])
            self.vb.setLimits(yMin=0.0, yMax=self._top)
        t0, t1 = self.view_span()
        width = max(int(self.vb.width()), 1)
        shown_level = self.level_for((t1 - t0) / width)
        visible = [(seg, self._takes[seg.paragraph_id]) for seg in segs if seg.end >= t0 and seg.start <= t1]
        self._visible, self._shown_level = [spec for _, spec in visible], shown_level
        self.picture.show(self._compose(visible, shown_level, t0, t1, width, self._top), t0, t1, 0.0, self._top)

    def tick(self) -> None:
        """A new view is drawn at once from the columns computed so far; missing columns of the
        visible takes are computed on the following ticks, within the budget, and drawn as they come."""
        if self.needs_repaint() == self._seen and self._compute(self._visible, self._shown_level):
            self._seen = None
        super().tick()

    def _compute(self, specs: list[_TakeSpectrum], shown: int) -> bool:
        """Within the tick's budget: the shown level of the visible takes first, then the others
        (a zoom in finds them ready). Returns whether any column was computed."""
        deadline = time.perf_counter() + BUDGET_SECONDS
        done = False
        for level in [shown] + [level for level in range(len(HOP_FACTORS)) if level != shown]:
            for spec in specs:
                while spec.missing(level) > 0:
                    if time.perf_counter() > deadline:
                        return True
                    spec.extend(level)
                    done = True
        return done

    def _compose(self, visible: list[tuple[Segment, _TakeSpectrum]], level: int, t0: float, t1: float,
                 width: int, top: float) -> np.ndarray:
        """The picture of [t0, t1]: RGBA pixels uint32 [BINS, width], transparent between takes."""
        picture = self.picture.blank(BINS, width)
        times = pixel_times(t0, t1, width)
        step = HOP_FACTORS[level] * HOP_SECONDS
        for seg, spec in visible:
            columns = spec.levels[level]
            hit, idx = columns_under(times, seg.start, step, columns.shape[1])
            if not len(idx):
                continue
            shade = columns[:, idx]  # (BINS, covered)
            take_top = seg.source.sample_rate / 2000
            if take_top < top:  # a take of a lower sample rate fills only the bottom of the pane
                rows = np.floor((np.arange(BINS) + 0.5) * top / take_top).astype(np.int64)
                shade = shade[rows[rows < BINS]]
            picture[: len(shade), hit] = self._lut[shade]
        return picture

"""Playback of the timeline: play/pause from the cursor, a range (optionally looped), one frame
with a little context. Positions are timeline seconds; the GUI calls ``poll`` on a timer."""

from __future__ import annotations

from studio.models.observable import Emitter
from studio.models.selection import Selection
from studio.models.timeline import Timeline
from studio.playback import Player

FRAME_CONTEXT = 0.16  # seconds played on each side of a clicked frame


class Transport:
    """Events: ``state_changed(playing)``, ``error(message)``."""

    def __init__(self, player: Player, timeline: Timeline, selection: Selection) -> None:
        self.player, self.timeline, self.selection = player, timeline, selection
        self.loop = False
        self._offset = 0.0  # timeline time of the player's buffer start
        self._range: tuple[float, float | None] | None = None  # what is playing, for loop and A/B
        self.state_changed = Emitter()
        self.error = Emitter()

    @property
    def playing(self) -> bool:
        return self.player.playing

    @property
    def position(self) -> float:
        """The playhead on the timeline, seconds."""
        return self._offset + self.player.position

    def play(self, start: float, end: float | None = None) -> bool:
        """Play the timeline from ``start`` to ``end`` (its end by default). False (and an error event)
        when there is nothing to play or no audio output."""
        from studio.playback import PlaybackError

        duration = self.timeline.duration
        if duration <= 0:
            self.error.emit("nothing to play yet: render a paragraph first")
            return False
        start = min(max(0.0, start), duration)
        if start >= duration - 1e-3 and end is None:
            start = 0.0
        audio = self.timeline.audio(start, end)
        try:
            self.player.play(audio, self.timeline.sample_rate)
        except PlaybackError as e:
            self.error.emit(str(e))
            return False
        self._offset, self._range = start, (start, end)
        self.state_changed.emit(True)
        return True

    def toggle(self) -> None:
        """Space: pause where we are (the cursor moves there), or play from the cursor."""
        if self.playing:
            self.pause()
        else:
            self.play(self.selection.cursor)

    def pause(self) -> None:
        if self.playing:
            pos = self.position
            self.player.stop()
            self.selection.set_cursor(pos)
            self.state_changed.emit(False)

    def stop(self) -> None:
        was = self.playing
        self.player.stop()
        self._range = None
        if was:
            self.state_changed.emit(False)

    def play_selection(self) -> bool:
        r = self.selection.range
        return self.play(r[0], r[1]) if r else self.play(self.selection.cursor)

    def play_frame(self, seconds: float, frame_seconds: float) -> bool:
        """One frame starting at ``seconds`` with FRAME_CONTEXT either side."""
        return self.play(max(0.0, seconds - FRAME_CONTEXT), seconds + frame_seconds + FRAME_CONTEXT)

    def restart_in_place(self) -> None:
        """The audio under the playhead changed (another take chosen): keep playing from here."""
        if self.playing and self._range is not None:
            pos, end = self.position, self._range[1]
            self.play(pos, end)

    def poll(self) -> None:
        """Called on the GUI timer: loop a finished range, or report the end."""
        if self._range is None or self.player.playing:
            return
        start, end = self._range
        if self.loop and self.selection.range is not None and end is not None:
            self.play(start, end)
            return
        self._range = None
        self.state_changed.emit(False)

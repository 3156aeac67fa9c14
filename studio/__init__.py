"""Timbre Studio: the Qt desktop app. Never imports torch; reaches the engine through one thread."""

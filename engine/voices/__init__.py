"""Voice presets: brand voices made from reference clips, a library of them, and bundles to share.

- ``clips``: reading any reference clip, cleaning it, saying plainly what is wrong with it, and picking
  the best 5-15 s (numpy/soundfile/soxr; no torch).
- ``preset``: one preset folder on disk (``voice.json``, ``prompt.safetensors``, ``reference.flac``).
- ``library``: user presets, built-in presets and a family's released voices; search, edit, variants,
  delete to a trash with undo, preview cache.
- ``share``: ``.timbrevoice`` zip export and a validating import that writes nothing unless all is valid.

Encoding a clip with the codec and rendering with a preset happen on the engine thread (engine.Engine).
None of these modules imports torch, so the studio may read the library directly.
"""

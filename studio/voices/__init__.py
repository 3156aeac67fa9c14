"""Voice presets in the studio: creating one from clips, the library dock, and blind auditions.

Everything that touches the model (preparing and encoding clips, rendering previews and auditions)
runs on the engine thread through ``EngineBridge.call``; metadata edits, variants, the trash and
bundles are file operations on the same ``VoiceLibrary`` folder, done here on the GUI thread.
"""

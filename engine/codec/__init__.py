"""Neural audio codecs at 12.5 frames per second."""

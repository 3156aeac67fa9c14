"""The released Voxtral TTS checkpoint (mistralai/Voxtral-4B-TTS-2603) as a model family."""

"""Neural network parts of the Voxtral architecture (torch only, no Qt, no I/O)."""

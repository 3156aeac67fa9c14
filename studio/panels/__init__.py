"""Control panels: widgets bound two-way to the plain-Python models."""

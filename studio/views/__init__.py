"""Time-aligned panes: each subscribes to a model and repaints on a timer."""

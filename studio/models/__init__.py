"""Plain-Python state of the studio (no Qt): views subscribe to these models."""

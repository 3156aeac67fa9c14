"""The one error type a training or evaluation command stops with when its user can fix the cause."""


class TrainingError(RuntimeError):
    """A missing or mismatched corpus, run or model folder, a bad flag combination, a teacher program that
    is not installed: ``timbre`` prints the message, without a traceback, and exits with status 2."""

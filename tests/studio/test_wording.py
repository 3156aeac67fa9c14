"""Counts read as English in the studio's labels."""

from studio.models.wording import count_of


def test_one_is_singular_and_every_other_count_plural():
    assert [count_of(n, "take") for n in (0, 1, 2)] == ["0 takes", "1 take", "2 takes"]
    assert count_of(1, "step") == "1 step" and count_of(8, "step") == "8 steps"

"""The phases of a study session, with the one name each is shown under.

A session walks pre -> learning -> post -> done (review mode: review -> done). The
values are the strings stored in ``session_items.phase`` and ``attempts.phase``, so
``Phase`` compares equal to them and reads them back unchanged::

    >>> Phase("post") is Phase.POST and Phase.POST == "post"
    True
    >>> Phase.POST.display
    'Post-test'
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Phase", "SESSION_ORDER", "TEST_PHASES"]


class Phase(StrEnum):
    PRE = "pre"
    LEARNING = "learning"
    POST = "post"
    REVIEW = "review"
    DONE = "done"  # derived: every item answered or studied; never stored on an item

    @property
    def display(self) -> str:
        """The name a coach reads ('Pre-test', 'Learning', ...)."""
        return _DISPLAY[self]

    @property
    def is_test(self) -> bool:
        """Answered without feedback and scored (pre, post, review)."""
        return self in TEST_PHASES


_DISPLAY = {
    Phase.PRE: "Pre-test",
    Phase.LEARNING: "Learning",
    Phase.POST: "Post-test",
    Phase.REVIEW: "Review",
    Phase.DONE: "Finished",
}

#: The phases of a coached (or self-study) session, in the order they run.
SESSION_ORDER: tuple[Phase, ...] = (Phase.PRE, Phase.LEARNING, Phase.POST)
TEST_PHASES: frozenset[Phase] = frozenset({Phase.PRE, Phase.POST, Phase.REVIEW})

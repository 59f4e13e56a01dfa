"""The Session screen, by what the coach sees: :mod:`.setup` (planning a session),
:mod:`.running` (a phase running, with :mod:`.learning` beside the board in the learning
phase), :mod:`.done` (the finished session); :mod:`.data` reads the store for them and
:mod:`.screen` holds the three pages."""

from conceptcoach.desktop.screens.session.screen import SessionScreen

__all__ = ["SessionScreen"]

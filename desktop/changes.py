"""What an operation changed in the store (or the settings), so each screen redraws only
what concerns it.

After an operation that writes succeeds, :class:`~conceptcoach.desktop.workers.Workers`
emits one ``changed(Changes)``; every screen listens and updates what shows the parts
that changed, at once when it is visible, else the next time it is shown. This is Anki's
``OpChanges`` pattern: the operation says what it touched, not who should be told.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

__all__ = ["Changes"]


@dataclass(frozen=True)
class Changes:
    players: bool = False  # players and groups
    sessions: bool = False  # sessions, their answers, study records and notes
    templates: bool = False  # saved session plans
    concepts: bool = False  # the concept library: concepts, prototypes, curation
    networks: bool = False  # registered networks
    games: bool = False  # imported human games
    settings: bool = False  # the app's settings (notation, board look, network...)

    @classmethod
    def everything(cls) -> Changes:
        """All of it (the store was opened or replaced)."""
        return cls(**{f.name: True for f in fields(cls)})

    def __or__(self, other: Changes) -> Changes:
        return replace(self, **{f.name: True for f in fields(self) if getattr(other, f.name)})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        return ", ".join(f.name for f in fields(self) if getattr(self, f.name)) or "nothing"

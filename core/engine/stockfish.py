"""Where Stockfish is and how its scores are read: shared by the data generation, the
strength and quality measurements, and the verification of quiz items (Stockfish is a
build and check tool; the app never needs it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import chess
import chess.engine

#: Where the Debian package ``stockfish`` installs it (not on root's PATH).
DEFAULT_STOCKFISH = "/usr/games/stockfish"
#: Centipawns a mate counts for when a score is read as a number.
MATE_CP = 10_000


def find_stockfish(explicit: str | None = None) -> str | None:
    """The Stockfish binary: ``explicit``, else ``stockfish`` on PATH, else the Debian path."""
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    return shutil.which("stockfish") or (DEFAULT_STOCKFISH if Path(DEFAULT_STOCKFISH).exists() else None)


def pov_cp(score: chess.engine.PovScore, turn: chess.Color) -> int:
    """A python-chess score in centipawns for ``turn``, mates as +-MATE_CP."""
    return int(score.pov(turn).score(mate_score=MATE_CP) or 0)

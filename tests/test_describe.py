"""Concept names a coach can read, measured on the prototypes' boards."""

from __future__ import annotations

import chess
from conceptcoach.concepts.describe import describe, describe_all, move_features

KING_SQUARES = ["a1", "b1", "c1", "d1", "a2", "b2", "g1", "h1"]


def _closed(king: str, knight: str = "f3") -> str:
    board = chess.Board("4k3/8/8/2ppp3/2PPP3/8/8/8 w - - 0 30")
    board.set_piece_at(chess.parse_square(king), chess.Piece(chess.KING, chess.WHITE))
    board.set_piece_at(chess.parse_square(knight), chess.Piece(chess.KNIGHT, chess.WHITE))
    return board.fen()


def test_features_of_one_move() -> None:
    f = move_features(_closed("a1"), "f3h2")
    assert f is not None
    assert (f.piece, f.kind, f.region, f.structure, f.phase) == ("knight", "retreat", "rim", "closed", "endgame")
    start = move_features(chess.STARTING_FEN, "e2e4")
    assert start is not None and (start.piece, start.kind, start.phase) == ("pawn", "advance", "opening")
    assert move_features(chess.STARTING_FEN, "e2e5") is None


def test_a_name_says_what_the_prototypes_share_and_others_do_not() -> None:
    retreats = [(_closed(k), "f3h2", None) for k in KING_SQUARES]
    pushes = [("4k3/8/8/8/8/8/2P5/K7 w - - 0 30", "c2c4", None), ("4k3/8/8/8/8/8/2P5/1K6 w - - 0 30", "c2c4", None),
              ("4k3/8/8/8/8/8/2P5/2K5 w - - 0 30", "c2c4", None), ("4k3/8/8/8/8/8/2P5/6K1 w - - 0 30", "c2c4", None)]
    named = describe_all([(retreats, "active"), (pushes, "prophylactic")])
    assert named[0].name == "Knight retreats to the rim in closed positions"
    assert named[1].name.startswith("Preventing: pawn advances")
    assert "knight 100%" in named[0].text and "closed 100%" in named[0].text
    # Alone, a concept is named by what most of its prototypes share.
    assert describe(retreats).name.startswith("Knight retreats")


def test_names_that_would_repeat_are_numbered() -> None:
    retreats = [(_closed(k), "f3h2", None) for k in KING_SQUARES]
    names = [d.name for d in describe_all([(retreats, "active"), (retreats, "active")])]
    assert names[0] != names[1] and names[1].endswith("(2)")


def test_names_that_would_repeat_are_first_set_apart_by_a_feature_they_do_not_share() -> None:
    # Two sets of advances the name cannot tell apart at the naming bar; in one a
    # knight moves (2 of 8), in the other a bishop: the repeat is resolved by the piece.
    def advances(piece: chess.PieceType, square: str, to: str, others: int) -> list[tuple[str, str, None]]:
        out = []
        for k, king in enumerate(KING_SQUARES):
            board = chess.Board("4k3/8/8/8/8/8/P7/8 w - - 0 30")
            board.set_piece_at(chess.parse_square(king), chess.Piece(chess.KING, chess.WHITE))
            if k < 8 - others:
                board.set_piece_at(chess.parse_square(square), chess.Piece(piece, chess.WHITE))
                out.append((board.fen(), f"{square}{to}", None))
            else:
                out.append((board.fen(), "a2a3", None))
        return out

    knights = advances(chess.KNIGHT, "e3", "f5", 6)
    bishops = advances(chess.BISHOP, "e3", "g5", 6)
    names = [d.name for d in describe_all([(knights, "active"), (bishops, "active")])]
    assert names[0] != names[1]
    assert names[0].endswith("by the knight") and names[1].endswith("by the bishop"), names

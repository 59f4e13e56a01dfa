"""Legal moves for search, with each move's shape key, faster than python-chess's generator.

A search generates the legal moves of every node it expands, and python-chess's
``generate_legal_moves`` spends most of its time on per-move Python: a generator step, a
new ``Move`` and a safety check for each pseudo-legal move. Here the common case (the
side to move is not in check and cannot capture en passant) is worked out square set by
square set with python-chess's own attack tables: a piece pinned to its king keeps only
the moves along the pin, the king only squares no enemy piece attacks, and ``Move``
objects come from a table built once. Checks, en passant and chess960 go to python-chess
unchanged. The two agree move for move (tests/test_movegen.py compares them on many
thousands of positions).

The key of a move is ``(from * 64 + to) * 7 + (promotion or 0)``, the index both policy
tables are built on.
"""

from __future__ import annotations

from functools import cache

import chess

_PROMOTIONS = (chess.QUEEN, chess.ROOK, chess.BISHOP, chess.KNIGHT)
_LAST_RANKS = chess.BB_RANK_1 | chess.BB_RANK_8


@cache
def _moves() -> tuple[chess.Move, ...]:
    """Every (from, to, promotion) move, by key. Moves are immutable, so one object per
    shape serves every position (about 2 MB, built on first use)."""
    out = []
    for src in range(64):
        for dst in range(64):
            for promotion in range(7):
                out.append(chess.Move(src, dst, promotion if promotion >= chess.KNIGHT and promotion != chess.KING
                                      else None))
    return tuple(out)


def _squares(bb: int) -> list[int]:
    out = []
    while bb:
        r = bb.bit_length() - 1
        out.append(r)
        bb ^= 1 << r
    return out


def legal_moves(board: chess.Board) -> tuple[list[chess.Move], list[int]]:
    """The legal moves of ``board`` and their keys, in the same order (castling as
    python-chess writes it, the king moving two squares)."""
    us = board.turn
    ours = board.occupied_co[us]
    king_bb = board.kings & ours
    if board.chess960 or not king_bb or king_bb & (king_bb - 1):
        return _slow(board)
    if board.ep_square is not None and chess.BB_PAWN_ATTACKS[not us][board.ep_square] & board.pawns & ours:
        return _slow(board)  # an en-passant capture to weigh
    king = king_bb.bit_length() - 1
    them = not us
    if board.attackers_mask(them, king):
        return _slow(board)  # check: python-chess's evasions

    table = _moves()
    occupied = board.occupied
    theirs = board.occupied_co[them]
    pinned = board._slider_blockers(king) & ours
    rays = chess.BB_RAYS[king]
    moves: list[chess.Move] = []
    keys: list[int] = []

    # Knights, bishops, rooks, queens: a pinned one only along its pin.
    for src in _squares(ours & ~board.pawns & ~board.kings):
        targets = board.attacks_mask(src) & ~ours
        if pinned >> src & 1:
            targets &= rays[src]
        base = src * 448
        for dst in _squares(targets):
            key = base + dst * 7
            moves.append(table[key])
            keys.append(key)

    # The king: to squares no enemy piece attacks (not in check, so no slider sees
    # through the king's square).
    base = king * 448
    for dst in _squares(chess.BB_KING_ATTACKS[king] & ~ours):
        if not board.attackers_mask(them, dst):
            key = base + dst * 7
            moves.append(table[key])
            keys.append(key)
    if board.castling_rights & ours:
        for move in board.generate_castling_moves():
            key = (move.from_square * 64 + move.to_square) * 7
            moves.append(table[key])
            keys.append(key)

    # Pawns: captures, single and double steps, promotions; pinned ones along the pin.
    pawns = board.pawns & ours
    if pawns:
        step = 8 if us == chess.WHITE else -8
        attacks = chess.BB_PAWN_ATTACKS[us]
        if us == chess.WHITE:
            single = pawns << 8 & ~occupied & chess.BB_ALL
            double = single << 8 & ~occupied & chess.BB_RANK_4
        else:
            single = pawns >> 8 & ~occupied
            double = single >> 8 & ~occupied & chess.BB_RANK_5
        pairs = [(src, dst) for src in _squares(pawns) for dst in _squares(attacks[src] & theirs)]
        pairs += [(dst - step, dst) for dst in _squares(single)]
        pairs += [(dst - 2 * step, dst) for dst in _squares(double)]
        for src, dst in pairs:
            if pinned >> src & 1 and not rays[src] >> dst & 1:
                continue
            key = (src * 64 + dst) * 7
            if _LAST_RANKS >> dst & 1:
                for promotion in _PROMOTIONS:
                    moves.append(table[key + promotion])
                    keys.append(key + promotion)
            else:
                moves.append(table[key])
                keys.append(key)
    return moves, keys


def _slow(board: chess.Board) -> tuple[list[chess.Move], list[int]]:
    moves = list(board.generate_legal_moves())
    return moves, [(m.from_square * 64 + m.to_square) * 7 + (m.promotion or 0) for m in moves]

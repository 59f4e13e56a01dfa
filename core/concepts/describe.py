"""Names and descriptions a coach can read, measured on a concept's prototypes.

A concept is a direction in the network's latent space; what a coach can read is what
its prototypes share on the board. For each prototype the teacher's move and the
position are measured (the moved piece, the kind of move, where it goes, the phase,
the pawn structure, the material balance, king safety, the squares the concept's heat
lights up); a feature shared by most prototypes makes the name, e.g. "Knight retreat
to the rim in closed positions", and the shares make the description. The coach can
still rename it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import chess

PIECE_NAMES = {chess.PAWN: "pawn", chess.KNIGHT: "knight", chess.BISHOP: "bishop", chess.ROOK: "rook",
               chess.QUEEN: "queen", chess.KING: "king"}
PIECE_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 0}
#: A feature must be shared by this share of the prototypes to enter the name.
NAME_SHARE = 0.5


@dataclass(frozen=True)
class MoveFeatures:
    """What one prototype's teacher move and position show."""

    piece: str
    kind: str  # capture, check, castling, promotion, pawn break, king move, retreat, advance, quiet move
    region: str  # rim, kingside, queenside, centre
    phase: str  # opening, middlegame, endgame
    structure: str  # closed, open, mixed
    material: str  # level, up, down (side to move, in pawn units)
    king: str  # castled, uncastled (side to move)


def _phase(board: chess.Board) -> str:
    npm = sum(PIECE_VALUES[pt] * chess.popcount(board.pieces_mask(pt, chess.WHITE) | board.pieces_mask(pt, chess.BLACK))
              for pt in (chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN))
    if npm <= 26:
        return "endgame"
    return "opening" if board.fullmove_number <= 12 else "middlegame"


def _structure(board: chess.Board) -> str:
    """Closed when several pawns are blocked by pawns, open when few pawns are left."""
    blocked = 0
    for sq in board.pieces(chess.PAWN, chess.WHITE):
        ahead = sq + 8
        if ahead < 64 and board.piece_at(ahead) == chess.Piece(chess.PAWN, chess.BLACK):
            blocked += 1
    pawns = len(board.pieces(chess.PAWN, chess.WHITE)) + len(board.pieces(chess.PAWN, chess.BLACK))
    if blocked >= 3:
        return "closed"
    if pawns <= 8 or blocked == 0 and pawns <= 10:
        return "open"
    return "mixed"


def _material(board: chess.Board) -> str:
    def side(colour: chess.Color) -> int:
        return sum(PIECE_VALUES[pt] * len(board.pieces(pt, colour)) for pt in PIECE_VALUES)

    diff = side(board.turn) - side(not board.turn)
    return "up" if diff >= 2 else "down" if diff <= -2 else "level"


def _kind(board: chess.Board, move: chess.Move) -> str:
    piece = board.piece_type_at(move.from_square)
    if board.is_castling(move):
        return "castling"
    if move.promotion:
        return "promotion"
    if board.gives_check(move):
        return "check"
    if piece == chess.PAWN:
        after = board.copy(stack=False)
        after.push(move)
        attacks = after.attacks(move.to_square) & after.pieces(chess.PAWN, not board.turn)
        if board.is_capture(move) and board.piece_type_at(move.to_square) == chess.PAWN or attacks:
            return "pawn break"
    if board.is_capture(move):
        return "capture"
    if piece == chess.KING:
        return "king move"
    forward = chess.square_rank(move.to_square) - chess.square_rank(move.from_square)
    if board.turn == chess.BLACK:
        forward = -forward
    if forward < 0:
        return "retreat"
    if forward > 0:
        return "advance"
    return "quiet move"


def _region(move: chess.Move) -> str:
    file = chess.square_file(move.to_square)
    if file in (0, 7):
        return "rim"
    return "queenside" if file <= 2 else "kingside" if file >= 5 else "centre"


def _king(board: chess.Board) -> str:
    king = board.king(board.turn)
    home = 0 if board.turn == chess.WHITE else 7
    if king is not None and chess.square_rank(king) == home and chess.square_file(king) in (1, 2, 6, 7):
        return "castled"
    return "uncastled"


def move_features(fen: str, uci: str) -> MoveFeatures | None:
    board = chess.Board(fen)
    try:
        move = chess.Move.from_uci(uci)
    except ValueError:
        return None
    if move not in board.legal_moves:
        return None
    piece = board.piece_type_at(move.from_square)
    return MoveFeatures(piece=PIECE_NAMES[piece or chess.PAWN], kind=_kind(board, move), region=_region(move),
                        phase=_phase(board), structure=_structure(board), material=_material(board),
                        king=_king(board))


def heat_region(heat: Sequence[float] | None) -> str | None:
    """Where the heat is: kingside, queenside or centre (files), when one third holds most of it."""
    if not heat or len(heat) != 64:
        return None
    by_file = [sum(abs(float(heat[r * 8 + f])) for r in range(8)) for f in range(8)]
    total = sum(by_file) or 1.0
    parts = {"queenside": sum(by_file[0:3]), "centre": sum(by_file[3:5]), "kingside": sum(by_file[5:8])}
    region, amount = max(parts.items(), key=lambda kv: kv[1])
    return region if amount / total >= 0.55 else None


@dataclass(frozen=True)
class Description:
    name: str
    text: str


KIND_PLURALS = {"capture": "captures", "check": "checks", "castling": "castling", "promotion": "promotions",
                "pawn break": "pawn breaks", "king move": "king marches", "retreat": "retreats",
                "advance": "advances", "quiet move": "quiet moves"}
CONTEXT_PHRASES = {
    "region": {"rim": "to the rim", "kingside": "on the kingside", "queenside": "on the queenside",
               "centre": "in the centre"},
    "structure": {"closed": "in closed positions", "open": "in open positions"},
    "phase": {"endgame": "in the endgame", "opening": "in the opening", "middlegame": "in the middlegame"},
    "material": {"up": "when ahead in material", "down": "when behind in material"},
    "king": {"uncastled": "before castling"},
}
#: A feature names a concept when this share of its prototypes has it...
MIN_SHARE = 0.35
#: ... and it is this many times more common than across all the concepts' prototypes.
MIN_LIFT = 1.3

Prototype = tuple[str, str, Sequence[float] | None]  # (fen, teacher move UCI, heat or None)


def _features(prototypes: Sequence[Prototype]) -> list[MoveFeatures]:
    return [f for f in (move_features(fen, uci) for fen, uci, _ in prototypes) if f is not None]


def _distinctive(counts: Counter[str], n: int, base: Counter[str], base_n: int,
                 allowed: Sequence[str] | None = None) -> tuple[str, float] | None:
    """The value most over-represented against the baseline, if common and distinctive enough."""
    best: tuple[float, str, float] | None = None
    for value, count in counts.items():
        if allowed is not None and value not in allowed:
            continue
        share = count / n
        lift = share / max(base[value] / base_n, 1e-9) if base_n else 1.0
        if share >= MIN_SHARE and lift >= MIN_LIFT and (best is None or lift > best[0]):
            best = (lift, value, share)
    return (best[1], best[2]) if best else None


def describe_all(concepts: Sequence[tuple[Sequence[Prototype], str]]) -> list[Description]:
    """Names and descriptions for several concepts at once ((prototypes, polarity) each):
    a feature names a concept when it is common in its prototypes and distinctive
    against all of them, and names that would repeat get a number."""
    per = [_features(protos) for protos, _ in concepts]
    fields = list(MoveFeatures.__dataclass_fields__)
    base = {f: Counter(getattr(x, f) for feats in per for x in feats) for f in fields}
    base_n = sum(len(feats) for feats in per)
    out: list[Description] = []
    for (protos, polarity), feats in zip(concepts, per, strict=True):
        out.append(_describe(protos, polarity, feats, base, base_n))
    # Names that repeat take their most distinctive feature not yet named (at a lower bar:
    # it tells them apart, it need not define them); only what still repeats gets a number.
    repeats = Counter(d.name for d in out)
    out = [Description(_set_apart(d.name, feats, base, base_n), d.text) if repeats[d.name] > 1 else d
           for d, feats in zip(out, per, strict=True)]
    seen: Counter[str] = Counter()
    named = []
    for d in out:
        seen[d.name] += 1
        named.append(d if seen[d.name] == 1 else Description(f"{d.name} ({seen[d.name]})", d.text))
    return named


#: The lower bar for a feature that only tells apart concepts whose names would repeat.
APART_SHARE = 0.25
APART_LIFT = 1.15


def _set_apart(name: str, feats: list[MoveFeatures], base: dict[str, Counter[str]], base_n: int) -> str:
    """``name`` with the most over-represented feature of ``feats`` that it does not
    already say (the moved piece, where it goes, the structure, phase, material, king)."""
    n = len(feats)
    if not n or not base_n:
        return name
    best: tuple[float, str] | None = None
    for field in ("piece", "region", "structure", "phase", "material", "king"):
        if field != "piece" and any(phrase in name for phrase in CONTEXT_PHRASES[field].values()):
            continue  # the name already says this (one place, one phase: never two)
        for value, count in Counter(getattr(f, field) for f in feats).items():
            phrase = f"by the {value}" if field == "piece" else CONTEXT_PHRASES[field].get(value)
            if phrase is None or phrase in name or (field == "piece" and value in name.lower()):
                continue
            share = count / n
            lift = share / max(base[field][value] / base_n, 1e-9)
            if share >= APART_SHARE and lift >= APART_LIFT and (best is None or lift > best[0]):
                best = (lift, phrase)
    return f"{name} {best[1]}" if best else name


def describe(prototypes: Sequence[Prototype], polarity: str = "active") -> Description:
    """A name and a description for one concept, against its own prototypes only."""
    return describe_all([(prototypes, polarity)])[0]


def _describe(prototypes: Sequence[Prototype], polarity: str, feats: list[MoveFeatures],
              base: dict[str, Counter[str]], base_n: int) -> Description:
    if not feats:
        return Description("Unnamed idea", "No prototype with a legal teacher move.")
    n = len(feats)
    counts = {field: Counter(getattr(f, field) for f in feats) for field in MoveFeatures.__dataclass_fields__}
    # With one concept alone the baseline is itself: fall back to plain majority shares.
    alone = base_n == n

    def pick(field: str, allowed: Sequence[str] | None = None) -> tuple[str, float] | None:
        if alone:
            value, count = counts[field].most_common(1)[0]
            ok = count / n >= NAME_SHARE and (allowed is None or value in allowed)
            return (value, count / n) if ok else None
        return _distinctive(counts[field], n, base[field], base_n, allowed)

    piece, kind = pick("piece"), pick("kind")
    if kind and kind[0] in ("castling", "promotion"):
        head = KIND_PLURALS[kind[0]].capitalize()
    elif piece and kind:
        head = f"{piece[0].capitalize()} {KIND_PLURALS[kind[0]]}"
    elif piece:
        head = f"{piece[0].capitalize()} moves"
    elif kind:
        head = KIND_PLURALS[kind[0]].capitalize()
    else:
        value, _ = counts["kind"].most_common(1)[0]
        head = f"Mostly {KIND_PLURALS[value]}"
    tails = []
    for order, field in enumerate(("region", "structure", "phase", "material", "king")):
        found = pick(field, list(CONTEXT_PHRASES[field]))
        if found:
            tails.append((-found[1], order, CONTEXT_PHRASES[field][found[0]]))
    # The two most common context features, read in a fixed order (where, then what kind of position).
    chosen = sorted(sorted(tails)[:2], key=lambda t: t[1])
    name = " ".join([head, *[t[2] for t in chosen]])
    if polarity != "active":
        name = f"Preventing: {name[0].lower()}{name[1:]}"

    def shares(field: str) -> str:
        return ", ".join(f"{v} {100 * c / n:.0f}%" for v, c in counts[field].most_common(3))

    text = (f"Across {n} positions. Piece moved: {shares('piece')}. Kind of move: {shares('kind')}. "
            f"Where it goes: {shares('region')}. Phase: {shares('phase')}. Pawn structure: {shares('structure')}. "
            f"Material for the side to move: {shares('material')}. Its king: {shares('king')}.")
    heat = Counter(r for r in (heat_region(h) for _, _, h in prototypes) if r)
    if heat:
        region_name, count = heat.most_common(1)[0]
        text += f" The concept's heat lies mostly on the {region_name} in {100 * count / len(prototypes):.0f}% of them."
    return Description(name, text)

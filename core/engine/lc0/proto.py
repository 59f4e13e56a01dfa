"""The protocol-buffers wire format, read and written by hand.

lc0 stores a network as one protobuf message (``Net`` in lc0's ``proto/net.proto``).
Reading it needs only the wire format: varints, fixed 32/64-bit words and
length-delimited byte strings. Decoding it here keeps the loader free of a compiled
dependency and of generated code; the schema (which field number means what) lives
in :mod:`conceptcoach.engine.lc0.weights`.

>>> msg = field_fixed32(1, 0x1C0) + field_bytes(2, b"GPL")
>>> fields = decode_message(msg)
>>> first_int(fields, 1), first_bytes(fields, 2)
(448, b'GPL')

The writer exists for tests and tools that build small synthetic networks; it is
not needed to load one.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

# Wire types of the protobuf encoding (3 and 4, the deprecated groups, are refused).
VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
FIXED32 = 5

FieldValue = int | memoryview
Fields = dict[int, list[tuple[int, FieldValue]]]
"""A decoded message: field number -> [(wire type, value)] in file order. Varints and
fixed words are ints (unsigned); length-delimited values are views into the buffer."""


class ProtoDecodeError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtoDecodeError(f"varint runs past the end of the message at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        # A varint holds at most 64 bits (10 bytes); longer means garbage, not a number.
        if shift >= 70:
            raise ProtoDecodeError(f"varint longer than 10 bytes at byte {pos}")


def decode_message(data: bytes | memoryview) -> Fields:
    """Split one message into its fields. Nested messages stay undecoded bytes: the
    caller decodes the ones its schema says are messages.

    Raises :class:`ProtoDecodeError` on a truncated or malformed message."""
    buf = memoryview(data)
    if buf.ndim != 1 or buf.itemsize != 1:
        buf = buf.cast("B")
    fields: Fields = {}
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtoDecodeError(f"field number 0 at byte {pos}")
        value: FieldValue
        if wire == VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == FIXED64:
            if pos + 8 > end:
                raise ProtoDecodeError(f"fixed64 field {number} runs past the end")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == LENGTH_DELIMITED:
            length, pos = _read_varint(buf, pos)
            if pos + length > end:
                raise ProtoDecodeError(
                    f"field {number} claims {length} bytes but only {end - pos} remain"
                )
            value = buf[pos : pos + length]
            pos += length
        elif wire == FIXED32:
            if pos + 4 > end:
                raise ProtoDecodeError(f"fixed32 field {number} runs past the end")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise ProtoDecodeError(f"unsupported wire type {wire} for field {number}")
        fields.setdefault(number, []).append((wire, value))
    return fields


def _last(fields: Fields, number: int) -> tuple[int, FieldValue] | None:
    # Protobuf semantics: for a singular field the last occurrence wins.
    entries = fields.get(number)
    return entries[-1] if entries else None


def first_int(fields: Fields, number: int, default: int = 0) -> int:
    """A singular varint or fixed field (unsigned), or ``default`` when absent."""
    entry = _last(fields, number)
    if entry is None:
        return default
    value = entry[1]
    if isinstance(value, memoryview):
        raise ProtoDecodeError(f"field {number} is length-delimited, expected a number")
    return value


def first_float(fields: Fields, number: int, default: float = 0.0) -> float:
    """A singular ``float`` field (fixed32), or ``default`` when absent."""
    entry = _last(fields, number)
    if entry is None:
        return default
    wire, value = entry
    if wire != FIXED32 or not isinstance(value, int):
        raise ProtoDecodeError(f"field {number} is not a 32-bit float (wire type {wire})")
    return float(struct.unpack("<f", value.to_bytes(4, "little"))[0])


def first_bytes(fields: Fields, number: int) -> bytes | None:
    """A singular length-delimited field as bytes, or None when absent."""
    view = first_view(fields, number)
    return None if view is None else view.tobytes()


def first_view(fields: Fields, number: int) -> memoryview | None:
    """A singular length-delimited field without copying, or None when absent."""
    entry = _last(fields, number)
    if entry is None:
        return None
    wire, value = entry
    if not isinstance(value, memoryview):
        raise ProtoDecodeError(f"field {number} has wire type {wire}, expected length-delimited")
    return value


def first_message(fields: Fields, number: int) -> Fields | None:
    """A singular embedded message, decoded, or None when absent."""
    view = first_view(fields, number)
    return None if view is None else decode_message(view)


def repeated_messages(fields: Fields, number: int) -> list[Fields]:
    """Every occurrence of a repeated embedded message, decoded, in order."""
    out = []
    for wire, value in fields.get(number, []):
        if not isinstance(value, memoryview):
            raise ProtoDecodeError(f"field {number} has wire type {wire}, expected a message")
        out.append(decode_message(value))
    return out


def repeated_varints(fields: Fields, number: int) -> list[int]:
    """A repeated integer field, packed or not (writers may use either)."""
    out: list[int] = []
    for _, value in fields.get(number, []):
        if isinstance(value, memoryview):
            pos = 0
            while pos < len(value):
                item, pos = _read_varint(value, pos)
                out.append(item)
        else:
            out.append(value)
    return out


# ---------------------------------------------------------------------------- writing


def _varint(value: int) -> bytes:
    if value < 0:
        value &= (1 << 64) - 1  # negative int32/int64 are ten-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def field_varint(number: int, value: int) -> bytes:
    """A varint field (int32, uint32, enum, bool)."""
    return _varint(number << 3 | VARINT) + _varint(value)


def field_fixed32(number: int, value: int) -> bytes:
    """A fixed32 field (lc0's ``magic``)."""
    return _varint(number << 3 | FIXED32) + value.to_bytes(4, "little")


def field_float(number: int, value: float) -> bytes:
    """A ``float`` field."""
    return _varint(number << 3 | FIXED32) + struct.pack("<f", value)


def field_bytes(number: int, value: bytes) -> bytes:
    """A length-delimited field: bytes, a string, or an embedded message."""
    return _varint(number << 3 | LENGTH_DELIMITED) + _varint(len(value)) + value


def packed_varints(values: Sequence[int]) -> bytes:
    """The payload of a packed repeated integer field (wrap it with :func:`field_bytes`)."""
    return b"".join(_varint(v) for v in values)


def reencode(fields: Fields) -> bytes:
    """Write decoded fields back, in the same order per field number.

    Lets a tool replace one field of a real file (e.g. its format) and keep the rest."""
    out = bytearray()
    for number, entries in fields.items():
        for wire, value in entries:
            key = _varint(number << 3 | wire)
            if isinstance(value, memoryview):
                out += key + _varint(len(value)) + value.tobytes()
            elif wire == VARINT:
                out += key + _varint(value)
            elif wire == FIXED32:
                out += key + value.to_bytes(4, "little")
            else:
                out += key + value.to_bytes(8, "little")
    return bytes(out)

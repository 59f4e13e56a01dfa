"""Network architecture as plain data (no torch), so registries and the GUI can read it cheaply."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from conceptcoach.engine.encoding import NUM_PLANES


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a network; stored with every checkpoint."""

    blocks: int = 6
    channels: int = 64
    input_planes: int = NUM_PLANES
    value_hidden: int = 128

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> NetworkConfig:
        known = {k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__}  # type: ignore[call-overload]
        return cls(**known)

    def layer_names(self) -> list[str]:
        return ["stem"] + [f"block{i}" for i in range(self.blocks)]

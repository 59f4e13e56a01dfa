"""The desktop app's settings: one dataclass, saved as JSON in the user's config folder.

The config folder (not the data folder) holds them because the data folder is itself a
setting. ``$CONCEPTCOACH_CONFIG_DIR`` overrides the folder (tests, portable installs).
An unreadable file is set aside, never fatal: the app starts with defaults and says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_CONFIG_DIR = "CONCEPTCOACH_CONFIG_DIR"
SETTINGS_FILE = "settings.json"
NOTATIONS = ("san", "figurine")
PIECE_SIZES = {"small": 0.82, "medium": 0.92, "large": 1.0}


@dataclass(frozen=True)
class Settings:
    network: str = "teacher"  # registered network sessions and discovery use
    data_dir: str = ""  # '' = $CONCEPTCOACH_DATA_DIR or the platform's user data folder
    board_theme: str = "wood"
    piece_size: str = "large"  # one of PIECE_SIZES
    notation: str = "san"  # 'san' (Nf3) or 'figurine' (♘f3)
    coordinates: bool = True
    animation: bool = True
    confirm_moves: bool = False  # a test answer is committed only once the player confirms it
    welcomed: bool = False  # the first-run welcome was dismissed
    export_dir: str = ""  # where Results writes exports ('' = ~/ConceptCoach exports)
    window_width: int = 0  # the main window's size when it was last closed (0 = the default)
    window_height: int = 0

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def figurines(self) -> bool:
        return self.notation == "figurine"

    @property
    def piece_scale(self) -> float:
        return PIECE_SIZES.get(self.piece_size, 1.0)


def config_dir() -> Path:
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("conceptcoach", "ConceptCoach"))


def settings_path(folder: Path | None = None) -> Path:
    return (folder or config_dir()) / SETTINGS_FILE


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """The saved settings (defaults for anything missing) and, when the file could not be
    used, a message saying why; the broken file is renamed so the user keeps it."""
    path = path or settings_path()
    if not path.exists():
        return Settings(), None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        broken = path.with_suffix(".broken.json")
        try:
            path.replace(broken)
        except OSError:
            broken = path
        return Settings(), f"{path} could not be read ({exc}); defaults are used and the file was kept as {broken}"
    known = {f.name: f for f in fields(Settings)}
    default = Settings()
    values: dict[str, Any] = {}
    for name, value in data.items():
        # bool is an int in Python: a size saved as true/false is not a size.
        wanted = type(getattr(default, name)) if name in known else None
        if wanted is not None and isinstance(value, wanted) and not (wanted is int and isinstance(value, bool)):
            values[name] = value
    settings = Settings(**values)
    if settings.notation not in NOTATIONS:
        settings = settings.with_changes(notation="san")
    if settings.piece_size not in PIECE_SIZES:
        settings = settings.with_changes(piece_size="large")
    return settings, None


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (a crash mid-write leaves the old file)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return path

"""Where bundled assets live (networks, the default concept library, pieces, icons)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_ASSETS = "CONCEPTCOACH_ASSETS"


def assets_dir() -> Path:
    """$CONCEPTCOACH_ASSETS, else ``assets/`` beside the source tree (or inside a bundle)."""
    env = os.environ.get(ENV_ASSETS)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "assets", here / "assets"):
        if candidate.is_dir():
            return candidate
    return here.parent / "assets"


def models_dir() -> Path:
    return assets_dir() / "models"


def library_dir() -> Path:
    return assets_dir() / "library"

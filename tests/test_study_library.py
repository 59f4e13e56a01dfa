"""The study tests' concept library (conftest's ``study_library`` fixture) is real and
complete: real positions of the Lichess sample, teachable concepts and failed ones."""

from __future__ import annotations

from types import SimpleNamespace

import sqlite_utils
from conceptcoach.store.concepts import list_concepts


def test_library_is_real_and_complete(store: sqlite_utils.Database, study_library: SimpleNamespace) -> None:
    ids = study_library.build(store, concepts=2, per_concept=5, failed=1)
    concepts = list_concepts(store, include_hidden=True)
    assert [c.id for c in concepts] == ids
    assert [c.prototype_count for c in concepts] == [5, 5, 5]
    assert [c.is_control for c in concepts] == [False, False, True]

"""The ordered list of schema migrations. Never edit a released migration: append one.

Each aggregate keeps its own migration in its own module (schema_*.py) so the
tables of one part of the product are read in one place.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils
from conceptcoach.store.schema_concepts import (
    migrate_v3_concepts,
    migrate_v6_prototype_verification,
)
from conceptcoach.store.schema_engine import migrate_v1_engine, migrate_v4_network_family
from conceptcoach.store.schema_humans import migrate_v8_human_models
from conceptcoach.store.schema_study import (
    migrate_v2_study,
    migrate_v5_learning_tries,
    migrate_v7_note_marks,
)

Migration = Callable[[sqlite_utils.Database], None]

#: Version N is reached by running MIGRATIONS[N-1].
MIGRATIONS: tuple[Migration, ...] = (
    migrate_v1_engine,
    migrate_v2_study,
    migrate_v3_concepts,
    migrate_v4_network_family,
    migrate_v5_learning_tries,
    migrate_v6_prototype_verification,
    migrate_v7_note_marks,
    migrate_v8_human_models,
)

"""The store: real SQLite files, WAL, ordered migrations, refusal of a newer schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conceptcoach.store.db import NewerSchemaError, StoreError, migrate, open_store, schema_version
from conceptcoach.store.schema import MIGRATIONS


def test_new_store_is_at_latest_version_in_wal_mode(store_path: Path) -> None:
    db = open_store(store_path)
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"networks", "games", "positions", "search_summaries", "attempts", "concepts"} <= set(db.table_names())
    db.conn.close()
    again = open_store(store_path)  # idempotent
    assert schema_version(again) == len(MIGRATIONS)


def test_migrations_run_in_order_from_an_older_database(store_path: Path) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(store_path, isolation_level=None))
    migrate(db, MIGRATIONS[:1])
    assert schema_version(db) == 1 and "attempts" not in db.table_names()
    db["networks"].insert({"name": "kept", "path": "/x", "sha256": "0", "architecture": "{}", "metadata": "{}"})
    db.conn.close()
    db = open_store(store_path)
    assert schema_version(db) == len(MIGRATIONS)
    assert [r["name"] for r in db.query("SELECT name FROM networks")] == ["kept"]


def test_newer_schema_is_refused_and_left_unchanged(store_path: Path) -> None:
    db = open_store(store_path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.conn.close()
    before = store_path.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer version"):
        open_store(store_path)
    assert store_path.read_bytes() == before


def test_failed_migration_rolls_back(store_path: Path) -> None:
    import sqlite_utils

    def broken(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    db = sqlite_utils.Database(sqlite3.connect(store_path, isolation_level=None))
    with pytest.raises(RuntimeError):
        migrate(db, (*MIGRATIONS[:1], broken))
    assert schema_version(db) == 1 and "half" not in db.table_names()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "notes.sqlite"
    bad.write_text("these are my notes, not a database\n" * 50)
    with pytest.raises(StoreError, match="notes.sqlite"):
        open_store(bad)
    assert bad.read_text().startswith("these are my notes")


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conceptcoach.bootstrap import store_path

    monkeypatch.setenv("CONCEPTCOACH_DATA_DIR", str(tmp_path / "env"))
    assert store_path() == tmp_path / "env" / "conceptcoach.sqlite"
    assert store_path(str(tmp_path / "flag")) == tmp_path / "flag" / "conceptcoach.sqlite"


def test_transaction_commits_or_rolls_back_everything(store) -> None:  # type: ignore[no-untyped-def]
    from conceptcoach.store.db import transaction

    store.execute("CREATE TABLE t (x INTEGER)")
    with transaction(store) as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    for exc in (ValueError("bad input"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), transaction(store, immediate=True) as conn:
            conn.execute("INSERT INTO t VALUES (2)")
            raise exc
    assert [r["x"] for r in store.query("SELECT x FROM t")] == [1]
    assert not store.conn.in_transaction

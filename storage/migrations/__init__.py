"""The database migrations (Alembic's script directory: ``env.py`` and ``versions/``).

``HEAD_REVISION`` is the newest migration's id: ``storage.db.upgrade`` tells from it, without
loading Alembic, that a database is up to date. After adding a migration, set it to the new id
(tests/unit/test_migration_head.py fails until it matches).
"""

HEAD_REVISION = "0010_public_names"

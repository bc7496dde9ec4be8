from alembic import context
from sqlalchemy import text

from traceability.storage.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copy, drop and rename; SQLite counts the drop of a table
        # others refer to as a violation even once the copy takes its name. The pragma works only
        # outside a transaction; the check below stands in for it, before the commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    try:
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Released at commit; any id works as long as every Suyuan server uses it.
                connection.execute(text("SELECT pg_advisory_xact_lock(7368296331)"))
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"a migration left rows that refer to nothing: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")

from alembic import context
from sqlalchemy import text

from traceability.storage.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Released at commit; any id works as long as every Suyuan server uses it.
            connection.execute(text("SELECT pg_advisory_xact_lock(7368296331)"))
        context.run_migrations()
    connection.commit()

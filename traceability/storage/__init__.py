"""Where things are kept: the database (SQLAlchemy models, created only by the Alembic
migrations), and the secrets in the data dir."""

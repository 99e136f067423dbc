"""Alembic environment: runs on the connection FeedbackStore.migrate() passes in."""

from alembic import context

from recommender.storage.feedback import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

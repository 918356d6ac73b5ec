"""The store: the ledger of received files, accepted return data, and history of figures.

SQLite by default (a file under the output folder), PostgreSQL when configured with a
database URL; the same SQLAlchemy Core code for both.

May use: the kernel only. Never `intake`, `measures`, `reports`, flows or Prefect.
"""

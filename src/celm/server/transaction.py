"""All or nothing for work made of steps that each commit (an import brings a batch, then claims
and ratings through the workflow functions, each of which commits as an annotator's request would).

:func:`one_transaction` gives those steps a session whose ``commit`` only releases a savepoint of one
outer transaction, and whose ``rollback`` returns to the last such savepoint (SQLAlchemy's
"join_transaction_mode='create_savepoint'"): each step behaves as it always does, and the whole is
written at the end, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def one_transaction(s: Session) -> Iterator[Session]:
    """A session on a connection of ``s``'s engine inside one transaction, committed when the block
    ends and rolled back if it raises."""
    engine = s.get_bind()
    with engine.connect() as conn:
        outer = conn.begin()
        if engine.dialect.name == "sqlite":
            # pysqlite opens its transaction only at the first INSERT/UPDATE; a SAVEPOINT before it
            # would start (and its RELEASE commit) a transaction of its own. Begin for real, and take
            # the write lock now: imports run one at a time (batches._serialize_imports).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        inner = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield inner
            inner.commit()  # the last savepoint
            inner.close()
            outer.commit()
        except BaseException:
            inner.close()
            outer.rollback()
            raise

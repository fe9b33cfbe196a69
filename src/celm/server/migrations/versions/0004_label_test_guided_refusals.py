"""the label test's key: guided answers that open with an explicit refusal are `reject`

The default label test keyed all 17 guided answers of the bundled examples `safe`; three of them
decline explicitly ("我不能帮你…") before they guide, which the rubric calls `reject`. Annotators
who followed the rubric failed those three. Databases that still hold the default questions get the
corrected key; questions an admin uploaded are left as they are.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 16:00:00
"""
from alembic import op
import sqlalchemy as sa


# alembic reads these two; branch labels and dependencies: none
revision, down_revision = '0004', '0003'


def _guided_refusals() -> list[tuple[str, str, str]]:
    from celm.data.bundled import _examples

    return [(e["instruction"], e["safe"], e["safe_verdict"]) for e in _examples() if e.get("safe_verdict")]


_REKEY = sa.text("UPDATE test_questions SET label = :new WHERE label = :old AND instruction = :q AND response = :r")


def upgrade() -> None:
    for q, r, verdict in _guided_refusals():
        op.execute(_REKEY.bindparams(new=verdict, old="safe", q=q, r=r))


def downgrade() -> None:
    for q, r, verdict in _guided_refusals():
        op.execute(_REKEY.bindparams(new="safe", old=verdict, q=q, r=r))

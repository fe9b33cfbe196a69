"""the label test: test questions keyed by a verdict; annotators qualified for label batches

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 07:00:00
"""
from alembic import op
import sqlalchemy as sa


# alembic reads these two; branch labels and dependencies: none
revision, down_revision = '0003', '0002'


def upgrade() -> None:
    op.add_column('users', sa.Column('qualified_label', sa.Boolean(), nullable=False, server_default=sa.false()))
    # annotators qualified before there was a label test did label batches on the rating test: they
    # keep that right; new annotators take the label test
    op.execute("UPDATE users SET qualified_label = qualified")
    op.add_column('test_questions', sa.Column('label', sa.String(length=16), nullable=True))
    with op.batch_alter_table('test_questions', schema=None) as batch_op:  # SQLite rebuilds this small table
        batch_op.alter_column('score', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM test_questions WHERE label IS NOT NULL")
    with op.batch_alter_table('test_questions', schema=None) as batch_op:
        batch_op.alter_column('score', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('label')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('qualified_label')

"""audit trail; batches that are new rounds of others; items looked up by external id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


# alembic reads these two; branch labels and dependencies: none
revision, down_revision = '0002', '0001'

# The database itself refuses to change or remove an audit entry, whatever client writes to it
# (the ORM refuses too, with a clearer message; these catch raw SQL and bulk statements).
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION celm_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$",
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION celm_audit_append_only()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION celm_audit_append_only()",
]


def upgrade() -> None:
    op.create_table('audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_username'), ['username'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS if dialect == "postgresql" else []:
        op.execute(statement)

    # plain ADD COLUMN / CREATE INDEX: no table rebuild, so existing databases migrate in place
    op.add_column('batches', sa.Column('round_of', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_batches_round_of'), 'batches', ['round_of'], unique=False)
    op.create_index(op.f('ix_items_external_id'), 'items', ['external_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_items_external_id'), table_name='items')
    op.drop_index(op.f('ix_batches_round_of'), table_name='batches')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('round_of')
    op.drop_table('audit')  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION celm_audit_append_only()")

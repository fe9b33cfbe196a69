"""accounts, sessions, claims and test draws (issue 32)

- users.name_key: the NFKC + case-folded name, unique (celm.server.usernames). An existing account
  whose folded name another one already holds keeps a key with its id appended, so the upgrade
  never fails; it still logs in by its exact name.
- sessions: tokens are stored as SHA-256; sessions from before hold plain tokens and are dropped
  (everyone logs in again). created_at for the absolute lifetime.
- assignments.claimed_at: unrated claims expire; existing ones count from the upgrade.
- test_attempts: the task and the questions drawn for the attempt, and when it was graded; earlier
  attempts were graded at once. Databases still on the default test questions get the larger
  default bank's new questions, so that each attempt can draw afresh.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 07:00:00
"""
from alembic import op
import sqlalchemy as sa


# alembic reads these two; branch labels and dependencies: none
revision, down_revision = '0005', '0004'


def _name_keys(conn) -> None:
    from celm.server.usernames import lookup_key

    taken = set()
    for uid, name in conn.execute(sa.text("SELECT id, username FROM users ORDER BY id")).fetchall():
        key = (lookup_key(name) or name.casefold())[:56]
        if key in taken:
            key = f"{key}#{uid}"
        taken.add(key)
        conn.execute(sa.text("UPDATE users SET name_key = :k WHERE id = :i"), {"k": key, "i": uid})


def _grow_default_banks(conn) -> None:
    from celm.server.competence_bank import default_bank, legacy_default_keys

    for task in ("rating", "label"):
        column = "label" if task == "label" else "score"
        where = "label IS NOT NULL" if task == "label" else "label IS NULL"
        rows = conn.execute(sa.text(f"SELECT instruction, response, {column} FROM test_questions WHERE {where}")).fetchall()
        present = {(q, r, k) for q, r, k in rows}
        if not present or not present <= legacy_default_keys(task):
            continue  # an admin's own questions: left as they are
        for q in default_bank(task):
            key = q.get("label") if task == "label" else q.get("score")
            if (q["instruction"], q["response"], key) not in present:
                conn.execute(sa.text("INSERT INTO test_questions (instruction, response, score, label) VALUES (:i, :r, :s, :l)"),
                             {"i": q["instruction"], "r": q["response"], "s": q.get("score"), "l": q.get("label")})


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column('users', sa.Column('name_key', sa.String(length=64), nullable=True))
    _name_keys(conn)
    op.create_index('ix_users_name_key', 'users', ['name_key'], unique=True)
    op.execute("DELETE FROM sessions")
    op.add_column('sessions', sa.Column('created_at', sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()))
    op.add_column('assignments', sa.Column('claimed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE assignments SET claimed_at = CURRENT_TIMESTAMP")
    op.add_column('test_attempts', sa.Column('task', sa.String(length=16), nullable=False, server_default='rating'))
    op.add_column('test_attempts', sa.Column('questions', sa.JSON(), nullable=True))
    op.add_column('test_attempts', sa.Column('finished_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE test_attempts SET finished_at = created_at")
    _grow_default_banks(conn)


def downgrade() -> None:
    op.execute("DELETE FROM test_attempts WHERE finished_at IS NULL")
    with op.batch_alter_table('test_attempts', schema=None) as batch_op:
        batch_op.drop_column('finished_at')
        batch_op.drop_column('questions')
        batch_op.drop_column('task')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
    op.execute("DELETE FROM sessions")
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('created_at')
    op.drop_index('ix_users_name_key', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('name_key')

"""stored documents: one row per content (unique SHA-256), and their links to the records they serve

The unique constraint on stored_documents.sha256 is what stores the same bytes once
(`ledger.documents.services.store_document`, INSERT ... ON CONFLICT DO NOTHING), even when two
uploads of the same file run at once. The files themselves live under DOCUMENTS_DIR, named by hash.

Revision ID: 0013
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment="of the content; the stored file's name"),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.Enum('application/pdf', 'image/jpeg', 'image/png', name='document_media_type',
        native_enum=False, create_constraint=True, length=40), nullable=False, comment='read from the content'),
    sa.Column('filename', sa.String(length=120), nullable=False, comment='as first uploaded, sanitised'),
    sa.Column('uploaded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_stored_documents_size')),
    sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['users.id'],
        name=op.f('fk_stored_documents_uploaded_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_documents')),
    sa.UniqueConstraint('sha256', name='uq_stored_documents_sha256')
    )
    with op.batch_alter_table('stored_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_documents_uploaded_by_user_id'), ['uploaded_by_user_id'],
            unique=False)

    op.create_table('document_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('owner_kind', sa.String(length=40), nullable=False,
        comment="the feature's record type: aid_application, ..."),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('hospital_bill', 'diagnosis', 'id_copy', 'other', name='document_kind',
        native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False, comment='as uploaded for this record, sanitised'),
    sa.Column('linked_by_user_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['stored_documents.id'],
        name=op.f('fk_document_links_document_id_stored_documents')),
    sa.ForeignKeyConstraint(['linked_by_user_id'], ['users.id'],
        name=op.f('fk_document_links_linked_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_links')),
    sa.UniqueConstraint('owner_kind', 'owner_id', 'document_id', 'kind', name='uq_document_links_owner_document')
    )
    with op.batch_alter_table('document_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_links_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_links_linked_by_user_id'), ['linked_by_user_id'], unique=False)
        batch_op.create_index('ix_document_links_owner', ['owner_kind', 'owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('document_links', schema=None) as batch_op:
        batch_op.drop_index('ix_document_links_owner')
        batch_op.drop_index(batch_op.f('ix_document_links_linked_by_user_id'))
        batch_op.drop_index(batch_op.f('ix_document_links_document_id'))

    op.drop_table('document_links')
    with op.batch_alter_table('stored_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_documents_uploaded_by_user_id'))

    op.drop_table('stored_documents')

"""care visit records: uploads, visits with their verification state and reasons, resolutions

The verification rules run as SQL over a per-transaction staging table (`ledger.vendors.visits`);
these indexes serve them: (worker_id, starts_at_minute) the overlap range self-join,
(person_id, starts_at_minute) the duplicate rule, (vendor_id, visit_on) and (county_id, visit_on)
the coverage and exception lists.

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('care_visit_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('import_batch_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('verified_count', sa.Integer(), nullable=False),
    sa.Column('held_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'], name=op.f('fk_care_visit_uploads_import_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_care_visit_uploads_uploaded_by_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['organisations.id'], name=op.f('fk_care_visit_uploads_vendor_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_visit_uploads')),
    sa.UniqueConstraint('import_batch_id', name='uq_care_visit_uploads_import_batch_id')
    )
    with op.batch_alter_table('care_visit_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_visit_uploads_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('care_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False, comment='the vendor that reported the visit'),
    sa.Column('upload_id', sa.Integer(), nullable=True, comment='the file it came in; none for a visit posted through the API'),
    sa.Column('row_number', sa.Integer(), nullable=True, comment='its row in the file (header = 1)'),
    sa.Column('resident_id', sa.String(length=18), nullable=False, comment="the person's resident ID as reported"),
    sa.Column('person_id', sa.Integer(), nullable=True, comment='none: unknown person'),
    sa.Column('county_id', sa.Integer(), nullable=True, comment="the person's county"),
    sa.Column('contract_id', sa.Integer(), nullable=True, comment="the contract of the vendor's assignment on the day"),
    sa.Column('worker_number', sa.String(length=30), nullable=False, comment='as reported'),
    sa.Column('worker_id', sa.Integer(), nullable=True, comment='none: unknown worker'),
    sa.Column('service_types', sa.String(length=120), nullable=False, comment="ServiceType values joined by ';'"),
    sa.Column('visit_on', sa.Date(), nullable=False, comment='local date the visit began'),
    sa.Column('starts_at_minute', sa.Integer(), nullable=False, comment='minutes since 1970-01-01 UTC'),
    sa.Column('ends_at_minute', sa.Integer(), nullable=True, comment='none: no check-out'),
    sa.Column('latitude_micro', sa.Integer(), nullable=True),
    sa.Column('longitude_micro', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('capture_method', sa.Enum('app', 'phone', 'paper', name='care_capture_method', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('state', sa.Enum('verified', 'held', 'rejected', name='care_visit_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason_flags', sa.Integer(), nullable=False, comment='bits of REASON_BITS'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['care_contracts.id'], name=op.f('fk_care_visits_contract_id_care_contracts')),
    sa.ForeignKeyConstraint(['county_id'], ['regions.id'], name=op.f('fk_care_visits_county_id_regions')),
    sa.ForeignKeyConstraint(['person_id'], ['care_persons.id'], name=op.f('fk_care_visits_person_id_care_persons')),
    sa.ForeignKeyConstraint(['upload_id'], ['care_visit_uploads.id'], name=op.f('fk_care_visits_upload_id_care_visit_uploads')),
    sa.ForeignKeyConstraint(['vendor_id'], ['organisations.id'], name=op.f('fk_care_visits_vendor_id_organisations')),
    sa.ForeignKeyConstraint(['worker_id'], ['care_workers.id'], name=op.f('fk_care_visits_worker_id_care_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_visits'))
    )
    with op.batch_alter_table('care_visits', schema=None) as batch_op:
        batch_op.create_index('ix_care_visits_county_visit_on', ['county_id', 'visit_on'], unique=False)
        batch_op.create_index('ix_care_visits_person_start', ['person_id', 'starts_at_minute'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_visits_upload_id'), ['upload_id'], unique=False)
        batch_op.create_index('ix_care_visits_vendor_visit_on', ['vendor_id', 'visit_on'], unique=False)
        batch_op.create_index('ix_care_visits_worker_start', ['worker_id', 'starts_at_minute'], unique=False)

    op.create_table('care_visit_resolutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('resolution_code', sa.Enum('checkout_confirmed', 'location_confirmed', 'schedule_corrected', 'duration_justified', 'not_given', name='care_resolution_code', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('state_to', sa.Enum('verified', 'held', 'rejected', name='care_visit_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_care_visit_resolutions_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['care_visits.id'], name=op.f('fk_care_visit_resolutions_visit_id_care_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_visit_resolutions')),
    sa.UniqueConstraint('visit_id', name='uq_care_visit_resolutions_visit_id')
    )
    with op.batch_alter_table('care_visit_resolutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_visit_resolutions_resolved_by_id'), ['resolved_by_id'], unique=False)



def downgrade():
    with op.batch_alter_table('care_visit_resolutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_visit_resolutions_resolved_by_id'))

    op.drop_table('care_visit_resolutions')
    with op.batch_alter_table('care_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_care_visits_worker_start')
        batch_op.drop_index('ix_care_visits_vendor_visit_on')
        batch_op.drop_index(batch_op.f('ix_care_visits_upload_id'))
        batch_op.drop_index('ix_care_visits_person_start')
        batch_op.drop_index('ix_care_visits_county_visit_on')

    op.drop_table('care_visits')
    with op.batch_alter_table('care_visit_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_visit_uploads_vendor_id'))

    op.drop_table('care_visit_uploads')

"""supported persons under home care: assessments, status history, assignments to vendors

The database keeps a person to one vendor on any day: on PostgreSQL an exclusion constraint over
the closed date range [valid_from, valid_to] (btree_gist gives the equality on person_id in the
same GiST index), on SQLite triggers before INSERT and UPDATE that refuse an overlapping row with
the same message. Either way a second assignment over a day already covered is an IntegrityError,
even from a hand-typed INSERT that bypasses `ledger.vendors.persons`.

An assessment's care level must be the one its six answers give (CHECK level_from_answers).

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PG_UPGRADE = r"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE care_assignments ADD CONSTRAINT care_assignments_one_per_day
    EXCLUDE USING gist (person_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&);
"""

_SQLITE_OVERLAP = """
WHEN EXISTS (SELECT 1 FROM care_assignments other
             WHERE other.person_id = NEW.person_id AND other.id IS NOT NEW.id
               AND other.valid_from <= COALESCE(NEW.valid_to, '9999-12-31')
               AND COALESCE(other.valid_to, '9999-12-31') >= NEW.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'care_assignments_one_per_day: the person has another assignment on one of these days');
END
"""
SQLITE_UPGRADE = [
    "CREATE TRIGGER care_assignments_one_per_day_insert BEFORE INSERT ON care_assignments" + _SQLITE_OVERLAP,
    "CREATE TRIGGER care_assignments_one_per_day_update BEFORE UPDATE ON care_assignments" + _SQLITE_OVERLAP,
]


def upgrade():
    op.create_table('care_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('resident_id', sa.String(length=18), nullable=False, comment='居民身份证号, checked; masked when shown'),
    sa.Column('born_on', sa.Date(), nullable=False, comment='from the resident ID'),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('latitude_micro', sa.Integer(), nullable=True, comment='WGS-84 latitude in millionths of a degree'),
    sa.Column('longitude_micro', sa.Integer(), nullable=True, comment='WGS-84 longitude in millionths of a degree'),
    sa.Column('region_id', sa.Integer(), nullable=False, comment='the village / community'),
    sa.Column('county_id', sa.Integer(), nullable=False, comment="the village's county (the scope of county users)"),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('latitude_micro IS NULL OR latitude_micro BETWEEN -90000000 AND 90000000', name=op.f('ck_care_persons_latitude')),
    sa.CheckConstraint('longitude_micro IS NULL OR longitude_micro BETWEEN -180000000 AND 180000000', name=op.f('ck_care_persons_longitude')),
    sa.ForeignKeyConstraint(['county_id'], ['regions.id'], name=op.f('fk_care_persons_county_id_regions')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'], name=op.f('fk_care_persons_import_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_care_persons_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_persons')),
    sa.UniqueConstraint('resident_id', name='uq_care_persons_resident_id')
    )
    with op.batch_alter_table('care_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_persons_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_persons_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_persons_region_id'), ['region_id'], unique=False)

    op.create_table('care_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('assessor', sa.String(length=100), nullable=False, comment='who assessed (name as written)'),
    sa.Column('eating_able', sa.Boolean(), nullable=False),
    sa.Column('dressing_able', sa.Boolean(), nullable=False),
    sa.Column('transferring_able', sa.Boolean(), nullable=False, comment='getting in and out of bed'),
    sa.Column('toileting_able', sa.Boolean(), nullable=False),
    sa.Column('walking_indoors_able', sa.Boolean(), nullable=False),
    sa.Column('bathing_able', sa.Boolean(), nullable=False),
    sa.Column('care_level', sa.Enum('self_caring', 'partly_disabled', 'fully_disabled', name='care_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("care_level = CASE WHEN (1 - CAST(eating_able AS INTEGER)) + (1 - CAST(dressing_able AS INTEGER)) + (1 - CAST(transferring_able AS INTEGER)) + (1 - CAST(toileting_able AS INTEGER)) + (1 - CAST(walking_indoors_able AS INTEGER)) + (1 - CAST(bathing_able AS INTEGER)) = 0 THEN 'self_caring' WHEN (1 - CAST(eating_able AS INTEGER)) + (1 - CAST(dressing_able AS INTEGER)) + (1 - CAST(transferring_able AS INTEGER)) + (1 - CAST(toileting_able AS INTEGER)) + (1 - CAST(walking_indoors_able AS INTEGER)) + (1 - CAST(bathing_able AS INTEGER)) <= 3 THEN 'partly_disabled' ELSE 'fully_disabled' END", name=op.f('ck_care_assessments_level_from_answers')),
    sa.ForeignKeyConstraint(['person_id'], ['care_persons.id'], name=op.f('fk_care_assessments_person_id_care_persons')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'], name=op.f('fk_care_assessments_recorded_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_assessments')),
    sa.UniqueConstraint('person_id', 'assessed_on', name='uq_care_assessments_person_id')
    )
    with op.batch_alter_table('care_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_assessments_recorded_by_user_id'), ['recorded_by_user_id'], unique=False)

    op.create_table('care_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False,
        comment="the care contract (of this vendor, in the person's county) it began under"),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_care_assignments_period')),
    sa.ForeignKeyConstraint(['contract_id'], ['care_contracts.id'], name=op.f('fk_care_assignments_contract_id_care_contracts')),
    sa.ForeignKeyConstraint(['person_id'], ['care_persons.id'], name=op.f('fk_care_assignments_person_id_care_persons')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'], name=op.f('fk_care_assignments_recorded_by_user_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['organisations.id'], name=op.f('fk_care_assignments_vendor_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_assignments'))
    )
    with op.batch_alter_table('care_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_assignments_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_care_assignments_person_id', ['person_id', 'valid_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_assignments_recorded_by_user_id'), ['recorded_by_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_assignments_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('care_person_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'in_institution', 'deceased', 'moved_out', name='care_person_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['care_persons.id'], name=op.f('fk_care_person_statuses_person_id_care_persons')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'], name=op.f('fk_care_person_statuses_recorded_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_person_statuses')),
    sa.UniqueConstraint('person_id', 'effective_on', name='uq_care_person_statuses_person_id')
    )
    with op.batch_alter_table('care_person_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_person_statuses_recorded_by_user_id'), ['recorded_by_user_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_UPGRADE)
    elif dialect == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE care_assignments DROP CONSTRAINT care_assignments_one_per_day")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS care_assignments_one_per_day_insert")
        op.execute("DROP TRIGGER IF EXISTS care_assignments_one_per_day_update")
    with op.batch_alter_table('care_person_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_person_statuses_recorded_by_user_id'))

    op.drop_table('care_person_statuses')
    with op.batch_alter_table('care_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_assignments_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_care_assignments_recorded_by_user_id'))
        batch_op.drop_index('ix_care_assignments_person_id')
        batch_op.drop_index(batch_op.f('ix_care_assignments_contract_id'))

    op.drop_table('care_assignments')
    with op.batch_alter_table('care_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_assessments_recorded_by_user_id'))

    op.drop_table('care_assessments')
    with op.batch_alter_table('care_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_persons_region_id'))
        batch_op.drop_index(batch_op.f('ix_care_persons_import_batch_id'))
        batch_op.drop_index(batch_op.f('ix_care_persons_county_id'))

    op.drop_table('care_persons')

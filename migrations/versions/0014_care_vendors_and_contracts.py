"""care vendors and contracts: vendor profiles, workers, contracts with versions; funds get a programme

`funds.programme` (relief / care) lets care-service budgets be ordinary ledger funds (the one
posting engine, holds, hash chains) while the relief tree, totals and reports leave them out.
Existing funds are relief funds. Its allowed values are checked as fund level's are (0005): a
CHECK constraint on SQLite, a trigger on PostgreSQL that runs only when the column is written,
so that postings, which update every fund they touch, do not pay for it.

Revision ID: 0014
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None


PROGRAMMES = ("relief", "care")
PROGRAMME_CHECK = "ck_funds_fund_programme"
PROGRAMME_COMMENT = "relief (the fund tree) or care (care-service budgets)"


def _add_fund_programme():
    allowed = ", ".join(f"'{value}'" for value in PROGRAMMES)
    if op.get_bind().dialect.name != "postgresql":
        # SQLite adds a column with its CHECK in place (no table copy, the funds' rows untouched).
        op.execute(f"ALTER TABLE funds ADD COLUMN programme VARCHAR(20) DEFAULT 'relief' NOT NULL "
                   f"CONSTRAINT {PROGRAMME_CHECK} CHECK (programme IN ({allowed}))")
        return
    op.add_column('funds', sa.Column('programme', sa.String(length=20), server_default='relief', nullable=False,
                                     comment=PROGRAMME_COMMENT))
    arguments = ", ".join(f"'{argument}'" for argument in ("programme", PROGRAMME_CHECK, *PROGRAMMES))
    op.execute(f"CREATE TRIGGER funds_programme_allowed BEFORE INSERT OR UPDATE OF programme ON funds "
               f"FOR EACH ROW EXECUTE FUNCTION ledger_check_allowed_value({arguments})")


def _drop_fund_programme():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER funds_programme_allowed ON funds")
    op.drop_column('funds', 'programme')


def upgrade():
    op.create_table('care_vendor_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('bank_account_number', sa.String(length=30), nullable=False, comment='masked in lists'),
    sa.Column('bank_account_holder', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', name='care_vendor_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_care_vendor_profiles_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_vendor_profiles')),
    sa.UniqueConstraint('organisation_id', name='uq_care_vendor_profiles_organisation_id')
    )
    op.create_table('care_contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False, comment='HT-<year>-<county code>-<seq>'),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False, comment="the county's care budget fund, which the ceiling commits"),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'active', 'suspended', 'ended', name='care_contract_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=True, comment='the pending hold committing the ceiling'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_care_contracts_term')),
    sa.ForeignKeyConstraint(['county_id'], ['regions.id'], name=op.f('fk_care_contracts_county_id_regions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_care_contracts_created_by_id_users')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_care_contracts_fund_id_funds')),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_care_contracts_hold_id_holds')),
    sa.ForeignKeyConstraint(['vendor_id'], ['care_vendor_profiles.id'], name=op.f('fk_care_contracts_vendor_id_care_vendor_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_contracts')),
    sa.UniqueConstraint('number', name='uq_care_contracts_number')
    )
    with op.batch_alter_table('care_contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_contracts_county_id'), ['county_id'], unique=False)
        batch_op.create_index('ix_care_contracts_vendor_county', ['vendor_id', 'county_id'], unique=False)

    op.create_table('care_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('worker_number', sa.String(length=30), nullable=False, comment="the vendor's own number, unique per vendor"),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('resident_id', sa.String(length=18), nullable=False, comment='居民身份证号, checked; masked when shown'),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('active_to IS NULL OR active_to >= active_from', name=op.f('ck_care_workers_active_dates')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'], name=op.f('fk_care_workers_import_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['vendor_id'], ['care_vendor_profiles.id'], name=op.f('fk_care_workers_vendor_id_care_vendor_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_workers')),
    sa.UniqueConstraint('vendor_id', 'worker_number', name='uq_care_workers_vendor_worker_number')
    )
    with op.batch_alter_table('care_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_workers_import_batch_id'), ['import_batch_id'], unique=False)

    op.create_table('care_contract_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False, comment='1 for the contract as signed, then each amendment'),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('ceiling_fen', sa.BigInteger(), nullable=False, comment='the budget ceiling of the whole term'),
    sa.Column('penalty_per_mille', sa.Integer(), nullable=False, comment='deducted per mille for care not given'),
    sa.Column('price_self_caring_fen', sa.BigInteger(), nullable=False, comment='per person-month, 全自理'),
    sa.Column('price_partly_disabled_fen', sa.BigInteger(), nullable=False, comment='per person-month, 半失能'),
    sa.Column('price_fully_disabled_fen', sa.BigInteger(), nullable=False, comment='per person-month, 全失能'),
    sa.Column('visits_min_self_caring', sa.SmallInteger(), nullable=False, comment='visits per person per month'),
    sa.Column('visits_min_partly_disabled', sa.SmallInteger(), nullable=False),
    sa.Column('visits_min_fully_disabled', sa.SmallInteger(), nullable=False),
    sa.Column('minutes_min_self_caring', sa.SmallInteger(), nullable=False, comment='minutes per visit'),
    sa.Column('minutes_min_partly_disabled', sa.SmallInteger(), nullable=False),
    sa.Column('minutes_min_fully_disabled', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False, comment='why the amendment was made'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ceiling_fen > 0', name=op.f('ck_care_contract_versions_ceiling_positive')),
    sa.CheckConstraint('penalty_per_mille BETWEEN 0 AND 1000', name=op.f('ck_care_contract_versions_penalty_per_mille')),
    sa.CheckConstraint('price_self_caring_fen >= 0 AND price_partly_disabled_fen >= 0 AND price_fully_disabled_fen >= 0', name=op.f('ck_care_contract_versions_prices')),
    sa.CheckConstraint('visits_min_self_caring >= 0 AND visits_min_partly_disabled >= 0 AND visits_min_fully_disabled >= 0 AND minutes_min_self_caring >= 0 AND minutes_min_partly_disabled >= 0 AND minutes_min_fully_disabled >= 0', name=op.f('ck_care_contract_versions_minimums')),
    sa.ForeignKeyConstraint(['contract_id'], ['care_contracts.id'], name=op.f('fk_care_contract_versions_contract_id_care_contracts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_care_contract_versions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_contract_versions')),
    sa.UniqueConstraint('contract_id', 'effective_on', name='uq_care_contract_versions_contract_effective_on'),
    sa.UniqueConstraint('contract_id', 'version_no', name='uq_care_contract_versions_contract_version_no')
    )
    _add_fund_programme()


def downgrade():
    _drop_fund_programme()

    op.drop_table('care_contract_versions')
    with op.batch_alter_table('care_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_workers_import_batch_id'))

    op.drop_table('care_workers')
    with op.batch_alter_table('care_contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_care_contracts_vendor_county')
        batch_op.drop_index(batch_op.f('ix_care_contracts_county_id'))

    op.drop_table('care_contracts')
    op.drop_table('care_vendor_profiles')

"""tier policies (versioned, bands, factors per category) and aid applications (救助申请)

A policy version that a decision used is never edited (the service refuses; a change is a new
version). Application numbers are sequential per county and year: aid_application_numbers holds
the last one given, claimed with an upsert under its row lock. The reviewer queue reads the index
(state, county_id, queue_rank, queue_at): urgent cases by their clock's deadline, then normal ones.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('aid_application_numbers',
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['regions.id'], name=op.f('fk_aid_application_numbers_county_id_regions')),
    sa.PrimaryKeyConstraint('county_id', 'year', name=op.f('pk_aid_application_numbers'))
    )
    op.create_table('aid_tier_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_aid_tier_policies_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_aid_tier_policies_fund_id_funds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_tier_policies')),
    sa.UniqueConstraint('fund_id', name='uq_aid_tier_policies_fund_id')
    )
    op.create_table('aid_tier_policy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False, comment='local date from which the version applies'),
    sa.Column('annual_cap_fen', sa.BigInteger(), nullable=False, comment='most one person receives in a year, all funds'),
    sa.Column('county_approval_max_fen', sa.BigInteger(), nullable=False, comment='most a county reviewer approves alone; above it the city approves'),
    sa.Column('once_per_household_per_year', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True, comment='first decision that used it; never edited after'),
    sa.CheckConstraint('annual_cap_fen > 0', name=op.f('ck_aid_tier_policy_versions_annual_cap_positive')),
    sa.CheckConstraint('county_approval_max_fen >= 0', name=op.f('ck_aid_tier_policy_versions_county_approval_max_not_negative')),
    sa.CheckConstraint('version_no >= 1', name=op.f('ck_aid_tier_policy_versions_version_no_positive')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_aid_tier_policy_versions_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['policy_id'], ['aid_tier_policies.id'], name=op.f('fk_aid_tier_policy_versions_policy_id_aid_tier_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_tier_policy_versions')),
    sa.UniqueConstraint('policy_id', 'version_no', name='uq_aid_tier_policy_versions_policy_version')
    )
    with op.batch_alter_table('aid_tier_policy_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_tier_policy_versions_policy_id'), ['policy_id'], unique=False)

    op.create_table('aid_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False, comment='SQ-2026-370827-000123'),
    sa.Column('state', sa.Enum('draft', 'submitted', 'under_review', 'returned', 'resubmitted', 'escalated', 'approved', 'paid', 'closed', 'rejected', 'withdrawn', 'approval_cancelled', name='aid_application_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False, comment="the person's county: the scope of county reviewers"),
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('filing_organisation_id', sa.Integer(), nullable=False),
    sa.Column('diagnosis', sa.String(length=200), nullable=False),
    sa.Column('hospital', sa.String(length=200), nullable=False),
    sa.Column('total_cost_fen', sa.BigInteger(), nullable=False),
    sa.Column('reimbursed_fen', sa.BigInteger(), nullable=False, comment='basic medical insurance, serious-illness insurance and medical assistance'),
    sa.Column('out_of_pocket_fen', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'especially_urgent', name='aid_urgency', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True, comment='clock start; default the submission time'),
    sa.Column('clock_deadline_at', sa.DateTime(timezone=True), nullable=True, comment='reported_at + 24 h / 2 h; none when normal'),
    sa.Column('queue_rank', sa.SmallInteger(), nullable=False, comment='0 urgent, 1 normal'),
    sa.Column('queue_at', sa.DateTime(timezone=True), nullable=True, comment='urgent: the deadline; normal: the submission'),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amount_requested_fen', sa.BigInteger(), nullable=False),
    sa.Column('suggested_fen', sa.BigInteger(), nullable=True, comment="the policy's amount at the decision"),
    sa.Column('suggestion_text', sa.String(length=300), nullable=True, comment='the rule that produced suggested_fen (English)'),
    sa.Column('suggestion_factor_permille', sa.Integer(), nullable=True, comment='the category factor the suggestion used'),
    sa.Column('policy_version_id', sa.Integer(), nullable=True, comment='the policy version the decision used'),
    sa.Column('amount_approved_fen', sa.BigInteger(), nullable=True),
    sa.Column('county_approved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('county_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('city_approved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('city_approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('payment_entry_id', sa.Integer(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minimal_documents', sa.Boolean(), nullable=False),
    sa.Column('paperwork_due_on', sa.Date(), nullable=True),
    sa.Column('paperwork_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_kind', sa.Enum('visit', 'call', name='aid_follow_up_kind', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('follow_up_outcome', sa.Text(), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('followed_up_by_user_id', sa.Integer(), nullable=True),
    sa.Column('filed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('last_changed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_approved_fen IS NULL OR amount_approved_fen > 0', name=op.f('ck_aid_applications_amount_approved_positive')),
    sa.CheckConstraint('amount_requested_fen > 0', name=op.f('ck_aid_applications_amount_requested_positive')),
    sa.CheckConstraint('reimbursed_fen + out_of_pocket_fen = total_cost_fen', name=op.f('ck_aid_applications_medical_balance')),
    sa.CheckConstraint('total_cost_fen >= 0 AND reimbursed_fen >= 0 AND out_of_pocket_fen >= 0', name=op.f('ck_aid_applications_medical_not_negative')),
    sa.ForeignKeyConstraint(['city_approved_by_user_id'], ['users.id'], name=op.f('fk_aid_applications_city_approved_by_user_id_users')),
    sa.ForeignKeyConstraint(['county_approved_by_user_id'], ['users.id'], name=op.f('fk_aid_applications_county_approved_by_user_id_users')),
    sa.ForeignKeyConstraint(['county_id'], ['regions.id'], name=op.f('fk_aid_applications_county_id_regions')),
    sa.ForeignKeyConstraint(['filed_by_user_id'], ['users.id'], name=op.f('fk_aid_applications_filed_by_user_id_users')),
    sa.ForeignKeyConstraint(['filing_organisation_id'], ['organisations.id'], name=op.f('fk_aid_applications_filing_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['followed_up_by_user_id'], ['users.id'], name=op.f('fk_aid_applications_followed_up_by_user_id_users')),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_aid_applications_fund_id_funds')),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_aid_applications_hold_id_holds')),
    sa.ForeignKeyConstraint(['last_changed_by_user_id'], ['users.id'], name=op.f('fk_aid_applications_last_changed_by_user_id_users')),
    sa.ForeignKeyConstraint(['payment_entry_id'], ['journal_entries.id'], name=op.f('fk_aid_applications_payment_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['person_id'], ['aid_persons.id'], name=op.f('fk_aid_applications_person_id_aid_persons')),
    sa.ForeignKeyConstraint(['policy_version_id'], ['aid_tier_policy_versions.id'], name=op.f('fk_aid_applications_policy_version_id_aid_tier_policy_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_applications')),
    sa.UniqueConstraint('number', name='uq_aid_applications_number')
    )
    with op.batch_alter_table('aid_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_applications_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index('ix_aid_applications_organisation_state', ['filing_organisation_id', 'state'], unique=False)
        batch_op.create_index('ix_aid_applications_paperwork', ['minimal_documents', 'paperwork_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_applications_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_aid_applications_queue', ['state', 'county_id', 'queue_rank', 'queue_at'], unique=False)

    op.create_table('aid_tier_bands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('threshold_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_aid_tier_bands_amount_positive')),
    sa.CheckConstraint('threshold_fen > 0', name=op.f('ck_aid_tier_bands_threshold_positive')),
    sa.ForeignKeyConstraint(['version_id'], ['aid_tier_policy_versions.id'], name=op.f('fk_aid_tier_bands_version_id_aid_tier_policy_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_tier_bands')),
    sa.UniqueConstraint('version_id', 'threshold_fen', name='uq_aid_tier_bands_version_threshold')
    )
    op.create_table('aid_tier_factors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('tekun_dispersed', 'tekun_concentrated', 'dibao', 'margin_income', 'margin_expenditure', 'illness_poverty', 'disability', 'orphan', name='aid_factor_category', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('factor_permille', sa.Integer(), nullable=False),
    sa.CheckConstraint('factor_permille > 0 AND factor_permille <= 10000', name=op.f('ck_aid_tier_factors_factor_range')),
    sa.ForeignKeyConstraint(['version_id'], ['aid_tier_policy_versions.id'], name=op.f('fk_aid_tier_factors_version_id_aid_tier_policy_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_tier_factors')),
    sa.UniqueConstraint('version_id', 'category', name='uq_aid_tier_factors_version_category')
    )


def downgrade():
    op.drop_table('aid_tier_factors')
    op.drop_table('aid_tier_bands')
    with op.batch_alter_table('aid_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_aid_applications_queue')
        batch_op.drop_index(batch_op.f('ix_aid_applications_person_id'))
        batch_op.drop_index('ix_aid_applications_paperwork')
        batch_op.drop_index('ix_aid_applications_organisation_state')
        batch_op.drop_index(batch_op.f('ix_aid_applications_fund_id'))

    op.drop_table('aid_applications')
    with op.batch_alter_table('aid_tier_policy_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aid_tier_policy_versions_policy_id'))

    op.drop_table('aid_tier_policy_versions')
    op.drop_table('aid_tier_policies')
    op.drop_table('aid_application_numbers')

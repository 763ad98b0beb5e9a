"""beneficiary registry: persons (one per resident ID), households, categories with effective dates

The unique constraint on aid_persons.resident_id is what makes registering an ID twice find the
first person (`ledger.aid.services.register_person`, INSERT ... ON CONFLICT DO NOTHING), even when
two registrations of the same ID run at once.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('aid_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_aid_households_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_households'))
    )
    with op.batch_alter_table('aid_households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_households_region_id'), ['region_id'], unique=False)

    op.create_table('aid_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('resident_id', sa.String(length=18), nullable=False, comment='居民身份证号, checked; masked when shown'),
    sa.Column('sex', sa.Enum('male', 'female', name='aid_sex', native_enum=False, create_constraint=True, length=20),
        nullable=False),
    sa.Column('born_on', sa.Date(), nullable=False, comment='from the resident ID'),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False, comment='the village / community'),
    sa.Column('county_id', sa.Integer(), nullable=False, comment="the village's county (the scope of county users)"),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('relation', sa.Enum('head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling',
        'other', name='aid_relation', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('bank_account_number', sa.String(length=30), nullable=False, comment='masked when shown'),
    sa.Column('bank_account_holder', sa.String(length=100), nullable=False),
    sa.Column('registered_by_user_id', sa.Integer(), nullable=True),
    sa.Column('registered_by_organisation_id', sa.Integer(), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['regions.id'], name=op.f('fk_aid_persons_county_id_regions')),
    sa.ForeignKeyConstraint(['household_id'], ['aid_households.id'],
        name=op.f('fk_aid_persons_household_id_aid_households')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'],
        name=op.f('fk_aid_persons_import_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_aid_persons_region_id_regions')),
    sa.ForeignKeyConstraint(['registered_by_organisation_id'], ['organisations.id'],
        name=op.f('fk_aid_persons_registered_by_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['registered_by_user_id'], ['users.id'],
        name=op.f('fk_aid_persons_registered_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_persons')),
    sa.UniqueConstraint('resident_id', name='uq_aid_persons_resident_id')
    )
    with op.batch_alter_table('aid_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_persons_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_persons_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_persons_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_persons_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_persons_registered_by_organisation_id'),
            ['registered_by_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aid_persons_registered_by_user_id'), ['registered_by_user_id'],
            unique=False)

    op.create_table('aid_person_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('tekun_dispersed', 'tekun_concentrated', 'dibao', 'margin_income',
        'margin_expenditure', 'illness_poverty', 'disability', 'orphan', name='aid_category', native_enum=False,
        create_constraint=True, length=20), nullable=False),
    sa.Column('disability_grade', sa.SmallInteger(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.CheckConstraint("(category = 'disability' AND disability_grade BETWEEN 1 AND 4) OR "
                       "(category <> 'disability' AND disability_grade IS NULL)",
                       name=op.f('ck_aid_person_categories_disability_grade')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_aid_person_categories_period')),
    sa.ForeignKeyConstraint(['person_id'], ['aid_persons.id'],
        name=op.f('fk_aid_person_categories_person_id_aid_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_person_categories'))
    )
    with op.batch_alter_table('aid_person_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aid_person_categories_person_id'), ['person_id'], unique=False)



def downgrade():
    with op.batch_alter_table('aid_person_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aid_person_categories_person_id'))

    op.drop_table('aid_person_categories')
    with op.batch_alter_table('aid_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aid_persons_registered_by_user_id'))
        batch_op.drop_index(batch_op.f('ix_aid_persons_registered_by_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_aid_persons_region_id'))
        batch_op.drop_index(batch_op.f('ix_aid_persons_import_batch_id'))
        batch_op.drop_index(batch_op.f('ix_aid_persons_household_id'))
        batch_op.drop_index(batch_op.f('ix_aid_persons_county_id'))

    op.drop_table('aid_persons')
    with op.batch_alter_table('aid_households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aid_households_region_id'))

    op.drop_table('aid_households')

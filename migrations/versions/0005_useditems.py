"""used items: the catalogue, picks, and the ledger's link to the item bought or sold

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('useditem_addresses',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('zipcode', sa.String(length=10), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('address_detail', sa.String(length=200), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('useditems',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('remarks', sa.String(length=300), nullable=False),
    sa.Column('contents', sa.Text(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('picked_count', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.String(length=32), nullable=True),
    sa.Column('seller_id', sa.String(length=32), nullable=False),
    sa.Column('buyer_id', sa.String(length=32), nullable=True),
    sa.Column('sold_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('price > 0', name='ck_useditems_price_positive'),
    sa.CheckConstraint('picked_count >= 0', name='ck_useditems_picked_count'),
    sa.ForeignKeyConstraint(['address_id'], ['useditem_addresses.id'], ),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('useditems', schema=None) as batch_op:
        batch_op.create_index('ix_useditems_listing', ['deleted_at', 'sold_at', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_useditems_seller_created', ['seller_id', 'created_at'], unique=False)
        batch_op.create_index('ix_useditems_buyer_created', ['buyer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_useditems_picked', ['picked_count'], unique=False)

    op.create_table('useditem_picks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('useditem_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['useditem_id'], ['useditems.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('useditem_id', 'user_id', name='uq_useditem_picks_item_user')
    )
    with op.batch_alter_table('useditem_picks', schema=None) as batch_op:
        batch_op.create_index('ix_useditem_picks_user_created', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('point_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('useditem_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_point_transactions_useditem_id'), ['useditem_id'], unique=False)
        batch_op.create_foreign_key('fk_point_transactions_useditem_id', 'useditems', ['useditem_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('point_transactions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_point_transactions_useditem_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_point_transactions_useditem_id'))
        batch_op.drop_column('useditem_id')
    with op.batch_alter_table('useditem_picks', schema=None) as batch_op:
        batch_op.drop_index('ix_useditem_picks_user_created')
    op.drop_table('useditem_picks')
    with op.batch_alter_table('useditems', schema=None) as batch_op:
        batch_op.drop_index('ix_useditems_picked')
        batch_op.drop_index('ix_useditems_buyer_created')
        batch_op.drop_index('ix_useditems_seller_created')
        batch_op.drop_index('ix_useditems_listing')
    op.drop_table('useditems')
    op.drop_table('useditem_addresses')

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_outbox_sealed_body')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CreditDispute',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('purchase', fields.ForeignKeyField('models.CreditPurchase', source_field='purchase_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='credit_disputes', on_delete=OnDelete.CASCADE)),
                ('amount_cents', fields.IntField()),
                ('taken', fields.DecimalField(default=0, max_digits=18, decimal_places=6)),
                ('status', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_dispute', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

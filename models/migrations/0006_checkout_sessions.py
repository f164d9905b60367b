from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_ledger_totals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CheckoutSession',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('stripe_id', fields.CharField(unique=True, max_length=255)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='checkout_sessions', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharField(max_length=16)),
                ('status', fields.CharField(default='open', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'checkout_session', 'app': 'models', 'indexes': [Index(fields=['account_id', 'mode', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

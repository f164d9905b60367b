# Link-preview insight (docs/link-previews.md): fetches per account, day and platform, and a
# sample of the latest fetches (models/insight.py).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_credit_disputes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CardFetch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='card_fetches', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('minute', fields.BigIntField()),
                ('image', fields.CharField(max_length=64)),
                ('platform', fields.CharField(max_length=16)),
                ('user_agent', fields.CharField(max_length=300)),
                ('title', fields.CharField(max_length=200)),
                ('status', fields.SmallIntField()),
                ('cache_hit', fields.BooleanField()),
            ],
            options={'table': 'card_fetch', 'app': 'models', 'unique_together': (('account', 'image', 'platform', 'minute'),), 'indexes': [Index(fields=['account_id', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CardFetchDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='card_fetch_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('platform', fields.CharField(max_length=16)),
                ('fetches', fields.BigIntField(default=0)),
                ('last_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'card_fetch_day', 'app': 'models', 'unique_together': (('account', 'day', 'platform'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

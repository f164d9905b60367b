from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Font',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=21)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='fonts', on_delete=OnDelete.CASCADE)),
                ('family', fields.CharField(max_length=64)),
                ('weight', fields.IntField()),
                ('style', fields.CharField(max_length=8)),
                ('glyphs', fields.IntField()),
                ('scripts', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('format', fields.CharField(max_length=8)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('data', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'font', 'app': 'models', 'indexes': [Index(fields=['account_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

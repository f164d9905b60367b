from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import DeliveryStatus, NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from models.migration_ops import DescribeEnum

class Migration(migrations.Migration):
    dependencies = [('models', '0012_spending_cap')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=20)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2048)),
                ('events', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sealed_secret', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failing_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'indexes': [Index(fields=['account_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='webhook_events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharField(max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('body', fields.TextField(unique=False)),
            ],
            options={'table': 'webhook_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.WebhookEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: pending\nDELIVERED: delivered\nFAILED: failed', enum_type=DeliveryStatus, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status', fields.IntField(null=True)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'unique_together': (('event', 'endpoint'),), 'indexes': [Index(fields=['endpoint_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        DescribeEnum(  # not AlterField: see models/migration_ops.py
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='QUOTA_80: QUOTA_80\nQUOTA_95: QUOTA_95\nQUOTA_100: QUOTA_100\nLOW_BALANCE: LOW_BALANCE\nSPENDING_CAP_100: SPENDING_CAP_100\nWEBHOOK_DISABLED: WEBHOOK_DISABLED', enum_type=NotificationKind, max_length=16),
        ),
        ops.AddField(
            model_name='Notification',
            name='data',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]

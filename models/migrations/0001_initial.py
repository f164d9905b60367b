from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import AccountStatus, NotificationKind, PlanId, SubscriptionStatus, TransactionType
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('password_hash', fields.CharField(max_length=255)),
                ('domain', fields.CharField(null=True, max_length=253)),
                ('plan', fields.CharEnumField(default=PlanId.FREE, description='FREE: free\nSTARTER: starter\nPRO: pro\nAGENCY: agency\nPUBLISHING: publishing', enum_type=PlanId, max_length=16)),
                ('custom_quota', fields.IntField(null=True)),
                ('status', fields.CharEnumField(default=AccountStatus.ACTIVE, description='ACTIVE: active\nSUSPENDED: suspended', enum_type=AccountStatus, max_length=16)),
                ('overage_enabled', fields.BooleanField(default=False)),
                ('balance', fields.DecimalField(default=0, max_digits=18, decimal_places=6)),
                ('subscription_status', fields.CharEnumField(default=SubscriptionStatus.NONE, description='NONE: none\nACTIVE: active\nTRIALING: trialing\nPAST_DUE: past_due\nUNPAID: unpaid\nCANCELED: canceled\nINCOMPLETE: incomplete', enum_type=SubscriptionStatus, max_length=16)),
                ('stripe_customer_id', fields.CharField(null=True, unique=True, max_length=255)),
                ('stripe_subscription_id', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('key_encrypted', fields.TextField(unique=False)),
                ('kid', fields.CharField(unique=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DailyUsage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='daily_usage', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('service', fields.CharField(max_length=64)),
                ('images', fields.BigIntField(default=0)),
                ('api_calls', fields.BigIntField(default=0)),
                ('tokens', fields.BigIntField(default=0)),
                ('spend', fields.DecimalField(default=0, max_digits=18, decimal_places=6)),
            ],
            options={'table': 'daily_usage', 'app': 'models', 'unique_together': (('account', 'day', 'service'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('status', fields.IntField()),
                ('body', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotency_record', 'app': 'models', 'pk_attr': 'key'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invoice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.CASCADE)),
                ('stripe_id', fields.CharField(unique=True, max_length=255)),
                ('number', fields.CharField(null=True, max_length=64)),
                ('date', fields.DateField()),
                ('amount', fields.DecimalField(max_digits=18, decimal_places=2)),
                ('currency', fields.CharField(max_length=3)),
                ('status', fields.CharField(max_length=32)),
                ('pdf_url', fields.CharField(null=True, max_length=1024)),
                ('hosted_url', fields.CharField(null=True, max_length=1024)),
            ],
            options={'table': 'invoice', 'app': 'models', 'indexes': [Index(fields=['account_id', 'date'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='ledger', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('type', fields.CharEnumField(description='PURCHASE: purchase\nUSAGE: usage\nREFUND: refund', enum_type=TransactionType, max_length=16)),
                ('service', fields.CharField(max_length=64)),
                ('amount', fields.DecimalField(max_digits=18, decimal_places=6)),
                ('tokens', fields.BigIntField(default=0)),
                ('images', fields.IntField(default=0)),
                ('description', fields.CharField(default='', max_length=255)),
                ('external_ref', fields.CharField(null=True, unique=True, max_length=255)),
                ('balance_after', fields.DecimalField(max_digits=18, decimal_places=6)),
            ],
            options={'table': 'ledger_entry', 'app': 'models', 'indexes': [Index(fields=['account_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(db_index=True, max_length=254)),
                ('ip', fields.CharField(db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_failure', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MonthlyUsage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='monthly_usage', on_delete=OnDelete.CASCADE)),
                ('month', fields.CharField(max_length=7)),
                ('used', fields.IntField(default=0)),
            ],
            options={'table': 'monthly_usage', 'app': 'models', 'unique_together': (('account', 'month'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('kind', fields.CharEnumField(description='QUOTA_80: QUOTA_80\nQUOTA_95: QUOTA_95\nQUOTA_100: QUOTA_100\nLOW_BALANCE: LOW_BALANCE', enum_type=NotificationKind, max_length=16)),
                ('message', fields.CharField(max_length=500)),
                ('read', fields.BooleanField(default=False)),
                ('dedupe_key', fields.CharField(max_length=64)),
            ],
            options={'table': 'notification', 'app': 'models', 'unique_together': (('account', 'dedupe_key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMail',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('to', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=255)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'outbox_mail', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasswordReset',
            fields=[
                ('token_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='password_resets', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_reset', 'app': 'models', 'pk_attr': 'token_hash'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ip', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'session', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StripeEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('type', fields.CharField(max_length=128)),
                ('processed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'stripe_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import PlanId
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_ledger_balance_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CreditPurchase',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='credit_purchases', on_delete=OnDelete.CASCADE)),
                ('session_id', fields.CharField(unique=True, max_length=255)),
                ('amount_cents', fields.IntField()),
                ('refunded_cents', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_purchase', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StripeSubscription',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='stripe_subscriptions', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(max_length=32)),
                ('plan', fields.CharEnumField(null=True, description='FREE: free\nSTARTER: starter\nPRO: pro\nAGENCY: agency\nPUBLISHING: publishing', enum_type=PlanId, max_length=16)),
                ('cancel_at_period_end', fields.BooleanField(default=False)),
                ('current_period_end', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created', fields.BigIntField()),
                ('version', fields.BigIntField(default=0)),
            ],
            options={'table': 'stripe_subscription', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='version',
            field=fields.BigIntField(default=0),
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_billing_subscriptions_purchases')]

    initial = False

    operations = [
        ops.CreateModel(
            name='QuotaReservation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_id', fields.BigIntField()),
                ('month', fields.CharField(max_length=7)),
                ('overage_entry_id', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'quota_reservation', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxMail',
            name='attempts',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='OutboxMail',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
    ]

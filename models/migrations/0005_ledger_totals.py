from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import TransactionType
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_reservations_outbox_retry')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LedgerTotal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='ledger_totals', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='PURCHASE: purchase\nUSAGE: usage\nREFUND: refund', enum_type=TransactionType, max_length=16)),
                ('service', fields.CharField(max_length=64)),
                ('entries', fields.BigIntField(default=0)),
                ('amount', fields.DecimalField(default=0, max_digits=18, decimal_places=6)),
                ('tokens', fields.BigIntField(default=0)),
                ('images', fields.BigIntField(default=0)),
            ],
            options={'table': 'ledger_total', 'app': 'models', 'unique_together': (('account', 'type', 'service'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        # Existing ledgers: their totals, as resolvers/rollups.py keeps them from now on (ROUND:
        # SQLite sums DECIMAL text as REAL; exact on PostgreSQL).
        ops.RunSQL(
            "INSERT INTO ledger_total (account_id, type, service, entries, amount, tokens, images)"
            " SELECT account_id, type, service, COUNT(*), ROUND(SUM(CAST(amount AS NUMERIC)), 6),"
            " SUM(tokens), SUM(images) FROM ledger_entry GROUP BY account_id, type, service",
            reverse_sql="DELETE FROM ledger_total",
        ),
        ops.RemoveIndex(
            model_name='LedgerEntry',
            name=None,
            fields=['account_id', 'type', 'service', 'amount', 'tokens', 'images'],
        ),
    ]

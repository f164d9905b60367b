from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import NotificationKind
from tortoise import fields

class StateOnlyAlterField(ops.AlterField):
    # Only the enum's description (a column comment) changes: nothing to do in the database.
    # On SQLite, Tortoise's AlterField rebuilds the table and drops its unique constraints
    # (notification's (account, dedupe_key), which makes each alert fire once).
    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0011_templates')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='overage_cap',
            field=fields.DecimalField(null=True, max_digits=18, decimal_places=6),
        ),
        ops.AddField(
            model_name='MonthlyUsage',
            name='overage_spend',
            field=fields.DecimalField(default=0, db_default=0, max_digits=18, decimal_places=6),
        ),
        # Months with overage already charged: their spend from the daily roll-ups, so a cap set
        # today counts this month's overage so far (ROUND: SQLite sums DECIMAL text as REAL).
        ops.RunSQL(
            "UPDATE monthly_usage SET overage_spend = COALESCE((SELECT"
            " ROUND(SUM(CAST(d.spend AS NUMERIC)), 6) FROM daily_usage d"
            " WHERE d.account_id = monthly_usage.account_id AND d.service = 'og_image_overage'"
            " AND SUBSTR(CAST(d.day AS TEXT), 1, 7) = monthly_usage.month), 0)",
            reverse_sql="SELECT 1",
        ),
        StateOnlyAlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='QUOTA_80: QUOTA_80\nQUOTA_95: QUOTA_95\nQUOTA_100: QUOTA_100\nLOW_BALANCE: LOW_BALANCE\nSPENDING_CAP_100: SPENDING_CAP_100', enum_type=NotificationKind, max_length=16),
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_reservation_alive_at')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMail',
            name='sealed_body',
            field=fields.TextField(null=True, unique=False),
        ),
    ]

"""Custom templates (docs/templates.md): an account's designs and their immutable versions."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class Template(Model):
    # id: "tpl_" + 16 lowercase alphanumerics; `version` is the latest version's number.
    id = fields.CharField(primary_key=True, max_length=20)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="templates", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, default="")
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    versions: fields.ReverseRelation[TemplateVersion]

    class Meta:
        table = "template"
        indexes = (("account_id", "created_at"),)


class TemplateVersion(Model):
    # One version of a design, never changed once written: canonical JSON (sorted keys).
    id = fields.BigIntField(primary_key=True)
    template: fields.ForeignKeyRelation[Template] = fields.ForeignKeyField(
        "models.Template", related_name="versions", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    design = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "template_version"
        unique_together = (("template", "version"),)


class Font(Model):
    # An uploaded font (docs/templates.md, Fonts): id "font_" + 16 lowercase alphanumerics.
    # `data` is the plain sfnt the renderer opens (WOFF/WOFF2 unpacked at upload), `sha256`
    # its hash: render hosts keep a file named by owner, id and hash (resolvers/templates/
    # fontfiles.py). In the database so that every worker of every host reads the same one.
    id = fields.CharField(primary_key=True, max_length=21)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="fonts", on_delete=fields.CASCADE
    )
    family = fields.CharField(max_length=64)
    weight = fields.IntField()
    style = fields.CharField(max_length=8)
    glyphs = fields.IntField()
    scripts: fields.JSONField[list[str]] = fields.JSONField()
    format = fields.CharField(max_length=8)  # ttf, otf, woff, woff2: as uploaded
    size = fields.IntField()  # bytes uploaded
    sha256 = fields.CharField(max_length=64)
    data = fields.BinaryField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "font"
        indexes = (("account_id", "created_at"),)

"""GraphQL custom templates: `templates` lists built-ins then the caller's own; create, update
(a new version) and delete with the session only; INVALID_DESIGN with its pointers."""

from __future__ import annotations

from datetime import timedelta

from tests.web.routes.test_custom_templates import BLUE, make_design

CREATE = """mutation($name: String!, $design: JSON!) {
  createTemplate(name: $name, description: "Ours", design: $design) {
    id name description custom version design fields { name type required maxLength } } }"""
UPDATE = """mutation($id: ID!, $design: JSON) {
  updateTemplate(id: $id, design: $design) { id version design } }"""
LIST = "{ templates { id name custom version } }"


async def test_create_update_list_delete(gql, signup):
    user = await signup()
    made = (await gql.data(CREATE, {"name": "Card", "design": make_design()}))["createTemplate"]
    assert made["id"].startswith("tpl_") and made["custom"] is True and made["version"] == 1
    assert made["design"] == make_design() and made["description"] == "Ours"
    assert made["fields"][0] == {"name": "title", "type": "string", "required": True,
                                 "maxLength": 40}  # fmt: skip
    updated = await gql.data(UPDATE, {"id": made["id"], "design": make_design(BLUE)})
    assert updated["updateTemplate"]["version"] == 2
    listed = (await gql.data(LIST))["templates"]
    assert listed[0] == {"id": "default", "name": "default", "custom": False, "version": None}
    assert listed[-1] == {"id": made["id"], "name": "Card", "custom": True, "version": 2}
    by_key = (await gql.key(user.api_key, LIST))["data"]["templates"]
    assert by_key == listed  # a script with the key reads its own too
    anonymous = (await gql(LIST, cookies=False))["data"]["templates"]
    assert not any(t["custom"] for t in anonymous)
    gone = await gql.data("mutation($id: ID!) { deleteTemplate(id: $id) }", {"id": made["id"]})
    assert gone == {"deleteTemplate": True}
    again = await gql("mutation($id: ID!) { deleteTemplate(id: $id) }", {"id": made["id"]})
    assert again["errors"][0]["extensions"]["code"] == "TEMPLATE_NOT_FOUND"


async def test_invalid_designs_and_keys_are_refused(gql, signup):
    user = await signup()
    bad = make_design()
    bad["layers"][0]["fill"] = "{{nope}}"
    body = await gql(CREATE, {"name": "Card", "design": bad})
    ext = body["errors"][0]["extensions"]
    assert ext["code"] == "INVALID_DESIGN"
    assert ext["errors"] == [
        {"path": "/layers/0/fill", "message": "{{nope}} is not a declared field"}
    ]
    with_key = await gql.key(user.api_key, CREATE, {"name": "Card", "design": make_design()})
    assert with_key["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_accounts_template_is_not_found(gql, signup, client):
    await signup()
    made = (await gql.data(CREATE, {"name": "Card", "design": make_design()}))["createTemplate"]
    client.session.cookie_jar.clear()
    await signup()
    body = await gql(UPDATE, {"id": made["id"], "design": make_design(BLUE)})
    assert body["errors"][0]["extensions"]["code"] == "TEMPLATE_NOT_FOUND"
    assert not any(t["custom"] for t in (await gql.data(LIST))["templates"])


async def test_updated_at_is_the_latest_versions_time(gql, signup, clock, now):
    """The template studio's list shows each template's last change (`updatedAt`)."""
    await signup()
    made = (await gql.data(CREATE, {"name": "Card", "design": make_design()}))["createTemplate"]
    clock.set(now + timedelta(minutes=30))  # within the session's idle hour
    await gql.data(UPDATE, {"id": made["id"], "design": make_design(BLUE)})
    listed = (await gql.data("{ templates { id custom updatedAt } }"))["templates"]
    assert listed[0]["updatedAt"] is None  # a built-in
    assert listed[-1] == {"id": made["id"], "custom": True, "updatedAt": "2026-06-15T12:30:00Z"}

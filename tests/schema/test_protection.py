"""CSRF, transport rules, query limits, masked errors and production switches."""

from __future__ import annotations

import logging

from models import Account
from resolvers.templates import catalog
from tests.schema.conftest import GQL, codes

SET_DOMAIN = 'mutation { updateAccount(domain: "evil.example") { domain } }'


async def _domain(user) -> str | None:
    return (await Account.get(id=user.id)).domain


async def test_cross_site_mutations_are_refused(gql, signup, now):
    user = await signup()
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
    ):
        body = await gql(SET_DOMAIN, headers=headers)
        assert codes(body) == ["FORBIDDEN"], headers
        assert await _domain(user) is None
    # Queries stay readable cross-site only as far as the browser's CORS rules allow (none set).
    for headers in (
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},  # BASE_URL
        {"Sec-Fetch-Site": "none"},
        {},  # not a browser
    ):
        body = await gql(SET_DOMAIN, headers=headers)
        assert "errors" not in body, headers
    host = gql.client.make_url("/")
    body = await gql(SET_DOMAIN, headers={"Origin": f"{host.scheme}://{host.host}:{host.port}"})
    assert "errors" not in body


async def test_only_json_posts_and_no_get_mutations(gql, signup, now, client):
    user = await signup()
    for data, ctype in (
        (f"query={SET_DOMAIN}", "application/x-www-form-urlencoded"),
        ('{"query": "' + SET_DOMAIN.replace('"', '\\"') + '"}', "text/plain"),
        (
            f'--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{SET_DOMAIN}\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
    ):
        resp = await client.post("/graphql", data=data, headers={"Content-Type": ctype})
        assert resp.status == 415, ctype
        assert (await resp.json())["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    resp = await client.get("/graphql", params={"query": SET_DOMAIN})
    assert resp.status == 400 and "errors" in await resp.json()
    assert await _domain(user) is None
    resp = await client.get("/graphql", params={"query": "{ me { email } }"})
    assert (await resp.json())["data"]["me"]["email"] == user.email
    resp = await client.put("/graphql", json={"query": "{ plans { id } }"})
    assert resp.status == 405
    resp = await client.post(
        "/graphql", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["errors"][0]["extensions"]["code"]
    resp = await client.post("/graphql", json=[{"query": "{ plans { id } }"}] * 2)
    assert resp.status == 400  # no batching


async def test_body_cap(client):
    big = {"query": "{ plans { id } }", "variables": {"pad": "x" * 120_000}}
    resp = await client.post("/graphql", json=big)
    assert resp.status == 413
    assert (await resp.json())["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks():  # no Content-Length: the cap holds while streaming
        yield b'{"query": "{ plans { id } }", "variables": {"pad": "'
        for _ in range(30):
            yield b"x" * 5000
        yield b'"}}'

    resp = await client.post(
        "/graphql", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413


async def test_depth_alias_and_token_limits(gql):
    # The schema itself nests at most 4 levels; the limiter also stops nonsense nesting early.
    body = await gql("{ transactions { edges { node { id } } } }")
    assert codes(body) == ["UNAUTHENTICATED"]  # valid and within depth; just not signed in
    too_deep = "{ me { plan { id { a { b { c { d { e { f { g } } } } } } } } } }"
    body = await gql(too_deep)
    messages = [e["message"] for e in body["errors"]]
    assert any("exceeds maximum operation depth" in m for m in messages), messages
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    aliases = "{ " + " ".join(f"a{i}: plans {{ id }}" for i in range(16)) + " }"
    body = await gql(aliases)
    assert (
        codes(body) == ["GRAPHQL_VALIDATION_FAILED"] and "aliases" in body["errors"][0]["message"]
    )
    tokens = "{ plans { " + "id " * 2100 + "} }"
    body = await gql(tokens)
    assert body["data"] is None and "token" in body["errors"][0]["message"].lower()
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


async def test_unexpected_errors_are_masked_and_logged(gql, monkeypatch, caplog):
    def boom():
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(catalog, "templates", boom)
    with caplog.at_level(logging.ERROR):
        body = await gql("{ plans { id } templates { name } }")
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Internal server error."
    assert codes(body) == ["INTERNAL_ERROR"] and "secret" not in str(body)
    assert "secret database detail" in caplog.text


async def test_validation_messages_stay_readable(gql, caplog):
    with caplog.at_level(logging.ERROR):
        body = await gql("{ plans { nope } }")
        assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "Cannot query field 'nope' on type 'Plan'" in body["errors"][0]["message"]
        body = await gql("{ plans { name ")
        assert (
            codes(body) == ["GRAPHQL_PARSE_FAILED"]
            and "Syntax Error" in body["errors"][0]["message"]
        )
        body = await gql("{ plans { nam } }")
        assert "Did you mean 'name'" in body["errors"][0]["message"]  # development
    assert caplog.text == ""  # expected errors are answers, not incidents


async def test_production_hides_schema_and_graphiql(aiohttp_client, make_app, client):
    resp = await client.get("/graphql", headers={"Accept": "text/html"})
    assert resp.status == 200 and "graphiql" in (await resp.text()).lower()
    intro = await GQL(client)("{ __schema { queryType { name } } }")
    assert intro["data"]["__schema"]["queryType"]["name"] == "Query"

    prod = await aiohttp_client(make_app(env="production"))
    resp = await prod.get("/graphql", headers={"Accept": "text/html"})
    assert resp.status == 404
    gql = GQL(prod)
    body = await gql("{ __schema { queryType { name } } }")
    assert body["data"] is None and set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    body = await gql("{ plans { nam } }")
    assert "Did you mean" not in body["errors"][0]["message"]
    assert "errors" not in await gql("{ plans { name } }")


async def test_oversized_get_query_is_refused(client):
    resp = await client.get("/graphql", params={"query": "{ plans { id } }" + " " * 10_000})
    assert resp.status in (400, 414)

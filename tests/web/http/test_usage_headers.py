"""The usage headers have one home (web/http/headers.py), written from the numbers resolvers return:
a request refused by the plan's rate limit carries X-RateLimit-* as a served one does."""

from __future__ import annotations

import pytest

from web.http.headers import decision_headers, quota_headers, rate_limit_headers

pytestmark = pytest.mark.timeout(60)


def test_the_header_rules():
    assert quota_headers(100, 120) == {
        "X-Quota-Limit": "100",
        "X-Quota-Used": "120",
        "X-Quota-Remaining": "0",  # never negative past the quota (overage)
    }
    assert rate_limit_headers(5, 4) == {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"}


async def test_a_render_refused_by_the_rate_limit_says_what_is_left(api, user_factory):
    user = await user_factory("free")  # 1 request a second
    key = {"X-API-Key": user.api_key}
    served = await api.get("/api/generate", params={"title": "one"}, headers=key)
    assert served.status == 200
    refused = await api.get("/api/generate", params={"title": "two"}, headers=key)
    assert refused.status == 429 and (await refused.json())["code"] == "RATE_LIMITED"
    assert refused.headers["X-RateLimit-Limit"] == "1"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) >= 1


def test_decision_headers_are_the_rate_limit_rule():
    from resolvers.limits.per_second import RateDecision

    assert decision_headers(RateDecision(True, 10, 7, 0.0)) == rate_limit_headers(10, 7)

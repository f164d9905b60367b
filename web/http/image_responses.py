"""Image requests and answers shared by the image handlers (web/routes/images.py) and the
playground (web/routes/playground.py): the query's parameters, and an image with its ETag
(a 304 when `If-None-Match` matches)."""

from __future__ import annotations

from aiohttp import web

from resolvers.errors import InvalidParameter
from resolvers.images.cache import CachedImage


def repeated_param(query) -> str | None:
    """The first parameter name given more than once (never meaningful here), if any."""
    if len(query) == len(set(query)):
        return None
    return next(k for k in query if len(query.getall(k)) > 1)


def image_query(request: web.Request) -> dict[str, str]:
    if name := repeated_param(request.query):
        raise InvalidParameter(f"{name} was given more than once")
    return dict(request.query)


def image_response(
    request: web.Request, image: CachedImage, headers: dict[str, str]
) -> web.Response:
    headers["ETag"] = image.etag
    tags = request.headers.get("If-None-Match", "")
    if tags and (
        tags.strip() == "*" or image.etag in (t.strip().removeprefix("W/") for t in tags.split(","))
    ):
        return web.Response(status=304, headers=headers)
    # Type and length set here, as aiohttp would (it otherwise parses the type for a charset
    # and checks the body against its Payload ABC): the cache-hit path runs this every time.
    headers["Content-Type"] = image.content_type
    headers["Content-Length"] = str(len(image.body))
    return web.Response(body=image.body, headers=headers)

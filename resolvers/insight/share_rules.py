"""What each platform shows for a page, and what is wrong with it (docs/link-previews.md has
every problem code, its fix and the limits' sources). Pure: the reads come from
resolvers/insight/share_check.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

MB = 1024 * 1024
PLATFORMS = ("facebook", "x", "linkedin", "slack", "discord")
NAMES = {
    "facebook": "Facebook",
    "x": "X",
    "linkedin": "LinkedIn",
    "slack": "Slack",
    "discord": "Discord",
}
# The crawlers' own User-Agents (each platform's documentation; docs/link-previews.md).
USER_AGENTS = {
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "x": "Twitterbot/1.0",
    "linkedin": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
}
MAX_IMAGE_BYTES = {"facebook": 8 * MB, "x": 5 * MB, "linkedin": 5 * MB}
MIN_IMAGE_SIZE = {"facebook": (200, 200), "x": (300, 157)}
IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# Where each platform takes its image and title from, first found wins.
IMAGE_TAGS = {
    "facebook": ("og:image", "og:image:url", "og:image:secure_url"),
    "linkedin": ("og:image", "og:image:url", "og:image:secure_url"),
    "x": ("twitter:image", "twitter:image:src", "og:image", "og:image:url"),
    "slack": ("og:image", "og:image:url", "twitter:image", "twitter:image:src"),
    "discord": ("og:image", "og:image:url", "twitter:image", "twitter:image:src"),
}
TITLE_TAGS = {"x": ("twitter:title", "og:title")}  # the others: og:title only
_ABSOLUTE = re.compile(r"https?://[^/]", re.I)


@dataclass(frozen=True)
class PageRead:
    """One platform's read of the page: `error` (plain words) when there is no page to show."""

    platform: str
    final_url: str | None = None
    status: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class ImageRead:
    url: str
    status: int | None = None
    content_type: str | None = None
    bytes: int | None = None
    more_than: bool = False  # the body went on past what was read: `bytes` is a lower bound
    format: str | None = None  # Pillow's name, e.g. "PNG", "SVG" is never one
    width: int | None = None
    height: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "status": self.status,
            "content_type": self.content_type,
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
        }


def first_tag(tags: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((tags[n] for n in names if tags.get(n)), None)


def image_url(platform: str, page: PageRead) -> tuple[str, str] | None:
    """(as written in the page, absolute) for the image `platform` takes, if any."""
    written = first_tag(page.tags, IMAGE_TAGS[platform])
    if written is None or page.final_url is None:
        return None
    try:
        return written, urljoin(page.final_url, written)
    except ValueError:  # e.g. "http://[::1": the fetcher refuses it as it is
        return written, written


def is_absolute(url: str) -> bool:
    return bool(_ABSOLUTE.match(url))


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n / 1024:.0f} KB"


# What each problem means for the reader, and the fix (docs/link-previews.md lists them too).
MESSAGES = {
    "PAGE_UNREACHABLE": "{name} could not read the page: {reason}. Make sure it answers 200 with "
    "HTML to crawlers (User-Agent {ua}); firewalls and bot protection often block them.",
    "NO_OG_TITLE": "The page has no og:title tag, so {name} shows the page's <title> or its "
    'address instead. Add <meta property="og:title" content="…"> to the <head>.',
    "NO_TWITTER_CARD": "The page has no twitter:card tag, so X shows at most a plain link. Add "
    '<meta name="twitter:card" content="summary_large_image"> for a large image card.',
    "NO_OG_IMAGE": "The page has no {which} tag, so {name} shows no picture. Add <meta "
    'property="og:image" content="https://…/card.png"> (a signed card URL works) to the <head>.',
    "IMAGE_URL_RELATIVE": "The image address {written!r} is relative; {name} needs a full "
    "address. Write it out: {absolute}",
    "NO_IMAGE_DIMENSIONS": "The page does not say og:image:width and og:image:height, so "
    "Facebook shows no image the first time the link is shared (it measures the image later). "
    'Add <meta property="og:image:width" content="1200"> and <meta property="og:image:height" '
    'content="630">.',
    "IMAGE_UNREACHABLE": "{name} could not download the image: {reason}. Make sure its address "
    "answers 200 with the image to everyone, crawlers included.",
    "IMAGE_TYPE": "The image is not a PNG, JPEG, GIF or WebP file ({kind}), so {name} does not "
    "show it. Serve the card as PNG or JPEG; SVG is never shown.",
    "IMAGE_TOO_LARGE": "The image is {size}; {name} takes at most {limit}. Make it smaller: a "
    "1200×630 PNG or JPEG is usually well under 1 MB.",
    "IMAGE_TOO_SMALL": "The image is {width}×{height} pixels; {name} needs at least "
    "{min_width}×{min_height} and otherwise shows a small thumbnail or none. Use 1200×630.",
}


def _p(code: str, **words: object) -> dict[str, str]:
    return {"code": code, "message": MESSAGES[code].format(**words)}


def problems(platform: str, page: PageRead, images: dict[str, ImageRead]) -> list[dict[str, str]]:
    """The `{code, message}` problems `platform` has with the page (message: what happens and
    the fix, in plain words)."""
    name = NAMES[platform]
    if page.error is not None:
        ua = USER_AGENTS[platform].split(" ")[0]
        return [_p("PAGE_UNREACHABLE", name=name, reason=page.error, ua=ua)]
    found: list[dict[str, str]] = []
    tags = page.tags
    if first_tag(tags, TITLE_TAGS.get(platform, ("og:title",))) is None:
        found.append(_p("NO_OG_TITLE", name=name))
    if platform == "x" and not tags.get("twitter:card"):
        found.append(_p("NO_TWITTER_CARD"))
    urls = image_url(platform, page)
    if urls is None:
        which = "twitter:image or og:image" if platform == "x" else "og:image"
        return [*found, _p("NO_OG_IMAGE", name=name, which=which)]
    written, absolute = urls
    if not is_absolute(written):
        found.append(
            _p("IMAGE_URL_RELATIVE", name=name, written=written[:200], absolute=absolute[:300])
        )
    if platform == "facebook" and not (tags.get("og:image:width") and tags.get("og:image:height")):
        found.append(_p("NO_IMAGE_DIMENSIONS"))
    return found + _image_problems(platform, images[absolute])


def _image_problems(platform: str, image: ImageRead) -> list[dict[str, str]]:
    name = NAMES[platform]
    if image.error is not None:
        return [_p("IMAGE_UNREACHABLE", name=name, reason=image.error)]
    found = []
    if image.format not in IMAGE_FORMATS:
        kind = f"it is {image.content_type or 'of no stated type'}"[:80]
        if image.format is None and image.content_type in IMAGE_TYPES:
            kind = f"it says {image.content_type} but is not a readable image"
        found.append(_p("IMAGE_TYPE", name=name, kind=kind))
    limit = MAX_IMAGE_BYTES.get(platform)
    if limit is not None and image.bytes is not None and (image.bytes > limit or image.more_than):
        size = ("more than " if image.more_than else "") + _size(image.bytes)
        found.append(_p("IMAGE_TOO_LARGE", name=name, size=size, limit=_size(limit)))
    least = MIN_IMAGE_SIZE.get(platform)
    w, h = image.width, image.height
    if least and w is not None and h is not None and (w < least[0] or h < least[1]):
        found.append(
            _p(
                "IMAGE_TOO_SMALL",
                name=name,
                width=w,
                height=h,
                min_width=least[0],
                min_height=least[1],
            )
        )
    return found

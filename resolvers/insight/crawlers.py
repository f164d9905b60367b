"""Which platform a `User-Agent` belongs to (docs/link-previews.md has the table).

The first row whose pattern is found in the User-Agent (ignoring case) names the platform;
a UA that names a bot, crawler or spider otherwise is `other_bot`, anything else `browser`.
Telegram's crawler says "TelegramBot (like TwitterBot)", so it is looked for before X; Apple's
iMessage previews say "facebookexternalhit/1.1 Facebot Twitterbot/1.0" and count as Facebook.
"""

from __future__ import annotations

import re

PLATFORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("facebook", ("facebookexternalhit", "Facebot")),
    ("telegram", ("TelegramBot",)),
    ("x", ("Twitterbot",)),
    ("linkedin", ("LinkedInBot",)),
    ("slack", ("Slackbot", "Slack-ImgProxy")),
    ("discord", ("Discordbot",)),
    ("whatsapp", ("WhatsApp",)),
    ("pinterest", ("Pinterest",)),
    ("reddit", ("redditbot",)),
    ("mastodon", ("Mastodon",)),
    ("google", ("Googlebot", "Google-InspectionTool")),
    ("bing", ("bingbot",)),
)
OTHER_BOT, BROWSER = "other_bot", "browser"
# Every platform name, in the documented order (GraphQL and the dashboard use these strings).
PLATFORM_NAMES = (*(name for name, _ in PLATFORMS), OTHER_BOT, BROWSER)
_NAMED = [(name, re.compile("|".join(map(re.escape, words)), re.I)) for name, words in PLATFORMS]
# "bot" as a word's end ("AhrefsBot/7.0", "YandexBot", "bot;"), or crawl / spider anywhere.
_ANY_BOT = re.compile(r"bot\b|crawl|spider", re.I)
MAX_UA = 1024  # longer User-Agents are judged by their start
MEMO_SIZE = 4096
# Crawlers send the same few strings again and again: a plain dict answers them in one lookup
# (this runs on every signed-image hit), emptied when full.
_memo: dict[str, str] = {}


def classify(user_agent: str) -> str:
    """The platform of a `User-Agent` header value (`""` when there was none)."""
    platform = _memo.get(user_agent)
    if platform is None:
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        platform = _memo[user_agent] = _classify(user_agent[:MAX_UA])
    return platform


def _classify(ua: str) -> str:
    for name, pattern in _NAMED:
        if pattern.search(ua):
            return name
    return OTHER_BOT if _ANY_BOT.search(ua) else BROWSER

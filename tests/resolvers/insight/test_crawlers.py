"""User-Agent → platform (docs/link-previews.md), over crawler UA strings as the crawlers send
them (from the platforms' documentation and access logs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resolvers.insight.crawlers import PLATFORM_NAMES, classify

DOC = Path(__file__).resolve().parents[3] / "docs" / "link-previews.md"

CORPUS = {
    "facebook": [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "facebookexternalhit/1.1",
        "Mozilla/5.0 (compatible; Facebot/1.0; +https://developers.facebook.com/docs/sharing/webmasters/crawler)",
        # Apple's iMessage link previews
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
        "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    ],
    "x": ["Twitterbot/1.0", "Mozilla/5.0 (compatible; Twitterbot/1.0)"],
    "linkedin": [
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Jakarta Commons-HttpClient/3.1 "
        "+http://www.linkedin.com)",
    ],
    "slack": [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Slack-ImgProxy (+https://api.slack.com/robots)",
        "Slackbot 1.0 (+https://api.slack.com/robots)",
    ],
    "discord": [
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.10; rv:38.0) Gecko/20100101 Firefox/38.0 "
        "(compatible; Discordbot/2.0; +https://discordapp.com)",
    ],
    "whatsapp": ["WhatsApp/2.23.20.0 A", "WhatsApp/2.2413.51 i"],
    "telegram": ["TelegramBot (like TwitterBot)", "TelegramBot/1.0 (like TwitterBot)"],
    "pinterest": [
        "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
        "Mozilla/5.0 (compatible; Pinterestbot/1.0; +https://www.pinterest.com/bot.html)",
    ],
    "reddit": [
        "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/41.0.2272.118 Safari/537.36 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
    ],
    "mastodon": [
        "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)",
        "http.rb/4.4.1 (Mastodon/3.5.3; +https://fosstodon.org/) Bot",
    ],
    "google": [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Googlebot-Image/1.0",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)",
    ],
    "bing": [
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
        "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    ],
    "other_bot": [
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "CCBot/2.0 (https://commoncrawl.org/faq/)",
        "Screaming Frog SEO Spider/19.4",
        "ia_archiver (+http://www.alexa.com/site/help/webmasters; crawler@alexa.com)",
    ],
    "browser": [
        "",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "curl/8.5.0",
    ],
}


@pytest.mark.parametrize(("platform", "ua"), [(p, ua) for p, uas in CORPUS.items() for ua in uas])
def test_classifies_real_user_agents(platform: str, ua: str) -> None:
    assert classify(ua) == platform


def test_every_platform_has_at_least_two_real_user_agents() -> None:
    assert set(CORPUS) == set(PLATFORM_NAMES)
    assert all(len(uas) >= 2 for uas in CORPUS.values())


def test_matching_ignores_case_and_judges_long_user_agents_by_their_start() -> None:
    assert classify("FACEBOOKEXTERNALHIT/1.1") == "facebook"
    assert classify("Twitterbot/1.0 " + "x" * 10_000) == "x"
    assert classify("x" * 10_000 + " Twitterbot/1.0") == "browser"


def test_the_documented_table_is_the_code() -> None:
    """docs/link-previews.md lists each platform with its patterns, in matching order."""
    from resolvers.insight.crawlers import PLATFORMS

    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|$", DOC.read_text(), re.M)
    documented = [(name, tuple(re.findall(r"`([^`]+)`", patterns))) for name, patterns in rows]
    assert documented[: len(PLATFORMS)] == list(PLATFORMS)

"""Sample cards: the standard benchmark card and one realistic spec per template."""

from __future__ import annotations

from render.spec import CardSpec

STANDARD = CardSpec.build(
    "Shipping a GraphQL billing dashboard in one weekend: what we learned",
    subtitle="Schema design, Stripe webhooks and the bugs we shipped",
    fields={"author_name": "Jane Doe", "date": "Mar 14, 2026", "brand": "acme.dev"},
)

SAMPLES: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "default": (STANDARD.title, STANDARD.subtitle, dict(STANDARD.fields)),
    "minimal": (
        "Designing calm interfaces",
        "Less chrome, more content: notes from a redesign",
        {"brand": "calm.design"},
    ),
    "vibrant": (
        "Launch week is here 🚀",
        "Five days, five features. Follow along.",
        {"badge": "New", "brand": "acme.dev", "author_name": "The Acme team"},
    ),
    "blog": (
        "How we cut our p99 latency in half with one index",
        "A story about Postgres, query plans and patience",
        {
            "badge": "Engineering",
            "reading_time": "8 min read",
            "author_name": "Priya Raman",
            "date": "Feb 2, 2026",
            "brand": "acme.dev",
        },
    ),
    "product": (
        "Aurora Wireless Headphones",
        "Adaptive noise cancelling, 40 h battery",
        {
            "brand": "Sonic",
            "price": "$199",
            "original_price": "$249",
            "rating": "4.6",
            "badge": "-20%",
        },
    ),
    "event": (
        "Scaling Python services to a million users",
        None,
        {
            "date": "Apr 24, 2026",
            "time": "18:00 CET",
            "location": "Berlin & online",
            "speaker_name": "Lukas Meyer",
            "badge": "Meetup",
            "brand": "PyBerlin",
        },
    ),
    "stats": (
        "Monthly active users",
        None,
        {
            "stat_value": "1.2M",
            "stat_label": "across 40 countries",
            "trend_icon": "↑",
            "trend_value": "+18% MoM",
            "brand": "acme.dev",
        },
    ),
    "real_estate": (
        "Sunny loft with a rooftop terrace",
        None,
        {
            "price": "$1,250,000",
            "address": "24 Harbour Street, Brooklyn, NY",
            "beds": "3",
            "baths": "2",
            "sqft": "1,850",
            "badge": "For sale",
        },
    ),
    "quote": (
        "The best way to predict the future is to invent it.",
        "Computer scientist",
        {"author_name": "Alan Kay", "brand": "quotes.dev"},
    ),
    "caption": ("When the build passes on the first try", "and nobody believes you", {}),
}

INTL = {
    "cjk": "東京で開催される開発者会議のお知らせ 中文标题测试 한국어 제목",
    "arabic": "مرحبا بكم في مؤتمر المطورين 2026",
    "hebrew": "ברוכים הבאים לכנס המפתחים",
    "hindi": "डेवलपर सम्मेलन में आपका स्वागत है",
    "mixed": "Привет, Καλημέρα, 你好 and 👋🎉 émoji",
}
LONG = "Supercalifragilisticexpialidocious" * 6


def sample(template: str, theme: str = "dark", **kw) -> CardSpec:
    title, subtitle, fields = SAMPLES[template]
    return CardSpec.build(
        title, subtitle=subtitle, fields=fields, template=template, theme=theme, **kw
    )

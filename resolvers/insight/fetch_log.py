"""Counting signed-image fetches per account, day and platform (docs/link-previews.md), with no
database write on the request's path.

`FetchLog.record` runs on every signed-image answer (200 or 304): it names the platform from
the User-Agent (resolvers.insight.crawlers), adds one to the (account, day, platform) count in
memory, and keeps a sample of the fetch when it is the first of its image and platform this minute.
`flush()` (resolvers.flusher), every `FLUSH_EVERY` seconds, adds the counts to `card_fetch_day`
and inserts the samples into `card_fetch`; a sample another worker already kept for that
minute is skipped by the table's unique key. Each account keeps its newest `KEEP_RECENT`
samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tortoise.expressions import Q

from models import CardFetch, CardFetchDay
from resolvers.flusher import Flusher
from resolvers.insight.crawlers import classify
from resolvers.rollups import add_to_row

FLUSH_EVERY = 2.0  # seconds: counts are in the database within this (docs: "within 5 s")
KEEP_RECENT = 200  # samples kept per account (GraphQL `recent` reads at most 100)
MAX_PENDING_SAMPLES = 5_000  # per flush; past it, samples wait for the next minute
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Sample:
    account_id: int
    at: datetime
    minute: int
    image: str
    platform: str
    user_agent: str
    title: str
    status: int
    cache_hit: bool


@dataclass(frozen=True)
class DayCount:
    account_id: int
    day: date
    platform: str
    fetches: int
    last_at: datetime


Item = DayCount | tuple[Sample, ...]


class FetchLog(Flusher[Item]):
    def __init__(self) -> None:
        Flusher.__init__(self)
        self._counts: dict[tuple[int, date, str], list] = {}  # key -> [fetches, last at]
        self._samples: list[Sample] = []
        # The current minute [start, end) (one comparison tells a fetch in it), its day and
        # its Unix minute, and what was sampled in it: (account, image, platform).
        self._start = self._end = datetime.min.replace(tzinfo=UTC)
        self._day = date.min
        self._minute = 0
        self._sampled: set[tuple[int, str, str]] = set()
        self._untrimmed: dict[int, int] = {}  # account -> samples written since its last trim

    def record(
        self,
        account_id: int,
        user_agent: str,
        now: datetime,
        *,
        image: str,
        title: str,
        status: int,
        cache_hit: bool,
    ) -> None:
        """Count one signed-image fetch (in memory; written by the next `flush()`). `now` is
        in UTC, as the app's clock gives it. Runs on every signed-image hit: a few dict and set
        operations, nothing else."""
        platform = classify(user_agent)
        if not self._start <= now < self._end:  # another minute (or the clock went back)
            self._start = now.replace(second=0, microsecond=0)
            self._end, self._day = self._start + MINUTE, now.date()
            self._minute = int(self._start.timestamp()) // 60
            self._sampled.clear()
        key = (account_id, self._day, platform)
        count = self._counts.get(key)
        if count is None:
            self._counts[key] = [1, now]
        else:
            count[0] += 1
            count[1] = now
        seen = (account_id, image, platform)
        if seen in self._sampled or len(self._samples) >= MAX_PENDING_SAMPLES:
            return
        self._sampled.add(seen)
        sample = Sample(
            account_id,
            now,
            self._minute,
            image[:64],
            platform,
            user_agent[:300],
            title[:200],
            status,
            cache_hit,
        )
        self._samples.append(sample)

    def _take(self) -> list[Item]:
        counts, self._counts = self._counts, {}
        samples, self._samples = self._samples, []
        items: list[Item] = [
            DayCount(account_id, day, platform, n, last)
            for (account_id, day, platform), (n, last) in sorted(counts.items())
        ]
        if samples:
            items.append(tuple(samples))
        return items

    async def _write(self, item: Item) -> None:
        if isinstance(item, DayCount):
            keys = {"account_id": item.account_id, "day": item.day, "platform": item.platform}
            await add_to_row(CardFetchDay, keys, {"fetches": item.fetches})
            later = Q(last_at__isnull=True) | Q(last_at__lt=item.last_at)
            await CardFetchDay.filter(later, **keys).update(last_at=item.last_at)
            return
        await CardFetch.bulk_create(
            [CardFetch(**vars(sample)) for sample in item], ignore_conflicts=True
        )
        for sample in item:
            self._untrimmed[sample.account_id] = self._untrimmed.get(sample.account_id, 0) + 1
        await self._trim()

    async def _trim(self) -> None:
        """Keep each account's newest KEEP_RECENT samples: trimmed once it has written half as
        many again since its last trim (so fewer than 1.5 times KEEP_RECENT rows, plus other
        workers' unwritten share)."""
        due = sorted(a for a, n in self._untrimmed.items() if n >= max(1, KEEP_RECENT // 2))
        for account_id in due:
            del self._untrimmed[account_id]
            oldest_kept = (
                await CardFetch.filter(account_id=account_id)
                .order_by("-id")
                .offset(KEEP_RECENT - 1)
                .limit(1)
                .values_list("id", flat=True)
            )
            if oldest_kept:
                await CardFetch.filter(account_id=account_id, id__lt=oldest_kept[0]).delete()

    def _describe(self, item: Item) -> str:
        if isinstance(item, DayCount):
            return f"{item.fetches} card fetch(es) of account {item.account_id} on {item.day}"
        return f"{len(item)} sampled card fetch(es)"

    async def run_flusher(self, every: float = FLUSH_EVERY) -> None:
        await super().run_flusher(every)

"""The playground's draft (render/draft.py): a JPEG at most 600 px on its long side, marked
"PREVIEW" all over, and the pool's bounded share for drafts (render/pool.py)."""

from __future__ import annotations

import asyncio
import io
import os
from dataclasses import replace

import numpy as np
import pytest

from bench.samples import STANDARD
from render.card import draw_card, render_card
from render.draft import DRAFT_MAX, draft_size, overlay, render_draft
from render.pool import DRAFT_NICE, RenderError, RenderPool
from render.spec import CardSpec
from tests.render.conftest import decode, marked_share


@pytest.mark.parametrize(
    ("asked", "draft"),
    [((1200, 630), (600, 315)), ((2400, 2400), (600, 600)), ((400, 300), (400, 300)),
     ((2400, 200), (600, 50)), ((200, 2400), (50, 600)), ((600, 600), (600, 600))],
)  # fmt: skip
def test_draft_size_keeps_the_aspect_and_never_passes_600(asked, draft):
    assert draft_size(*asked) == draft


CARDS = [
    CardSpec(title="Ship beautiful link previews", subtitle="Open Graph cards", theme="dark"),
    CardSpec(title="Less chrome", template="minimal", theme="light", bg_color="#ffffff"),
    CardSpec(title="Numbers", template="stats", bg_color="#000000", width=800, height=400),
    CardSpec(title="Quote", template="quote", theme="light", format="webp", width=2400,
             height=2400, quality=100),
]  # fmt: skip


@pytest.mark.parametrize("spec", CARDS, ids=lambda s: f"{s.template}-{s.theme}-{s.width}")
def test_a_draft_is_a_jpeg_marked_all_over_on_dark_and_light_cards(spec):
    data = render_draft(spec)
    im = decode(data)
    size = draft_size(spec.width, spec.height)
    assert im.format == "JPEG" and im.size == size and max(size) <= DRAFT_MAX
    # The same card drawn at the draft's size without the mark: the mark changes every
    # quarter of the card (no crop removes it); JPEG alone changes almost nothing.
    clean = draw_card(replace(spec, width=size[0], height=size[1])).im
    quarters = marked_share(im, clean)
    assert min(quarters) > 0.02 and sum(quarters) / 4 > 0.04, quarters
    buf = io.BytesIO()
    clean.save(buf, "JPEG", quality=80)
    assert max(marked_share(decode(buf.getvalue()), clean)) < 0.01
    # The solid tag in the top-right corner.
    w, h = size
    tag = np.asarray(im.crop((w - w // 4, 0, w, h // 6)).convert("L")).astype(int)
    plain = np.asarray(clean.crop((w - w // 4, 0, w, h // 6)).convert("L")).astype(int)
    assert (np.abs(tag - plain) > 40).mean() > 0.15


def _subtracted(spec: CardSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What knowing the (deterministic) mark recovers of `spec`'s draft, `card = (out - a*mark)
    / (1 - a)` wherever `a` < 1, the card itself and the mark's opacity `a`."""
    w, h = draft_size(spec.width, spec.height)
    out = np.asarray(decode(render_draft(spec)).convert("RGB")).astype(float)
    clean = np.asarray(draw_card(replace(spec, width=w, height=h)).im.convert("RGB")).astype(float)
    mark = np.asarray(overlay(w, h)).astype(float)
    a = mark[..., 3:] / 255
    recovered = np.where(a < 1, (out - a * mark[..., :3]) / np.maximum(1 - a, 1e-3), out)
    return np.clip(recovered, 0, 255), clean, a[..., 0]


def test_the_known_mark_cannot_be_subtracted():
    """Two quite different cards: where the mark is faint, subtracting it tells them apart
    again; under the opaque sash and tag nothing of either card is left, over a large band
    through the middle of the card."""
    (dark, dark_card, a), (light, light_card, _) = (_subtracted(s) for s in CARDS[:2])
    differ = np.abs(dark_card - light_card).max(axis=2) > 40
    told = np.abs(dark - light).max(axis=2) > 40
    faint = differ & (a > 0) & (a < 0.5)
    assert told[faint].mean() > 0.95  # the faint pattern alone would come off
    lost = differ & ~told
    assert lost.mean() > 0.1, lost.mean()  # about 12 % of the card
    h, w = lost.shape
    assert lost[h // 2 - 8 : h // 2 + 8, w // 2 - 8 : w // 2 + 8].mean() > 0.9  # the middle
    assert render_draft(CARDS[0]) == render_draft(CARDS[0])  # deterministic


def test_a_wide_banner_is_drawn_at_the_smallest_size_then_scaled():
    spec = CardSpec(title="Banner", template="vibrant", width=2400, height=200)
    im = decode(render_draft(spec))
    assert (im.format, im.size) == ("JPEG", (600, 50))


def test_a_draft_is_never_the_deliverable():
    spec = replace(STANDARD, format="jpeg", width=600, height=315, quality=80)
    assert render_draft(spec) != render_card(spec)


async def test_drafts_never_hold_up_a_paid_render_inline():
    """Eight drafts in flight, then a paid render, on the one inline thread: drafts go one at
    a time, so the paid render waits behind at most one."""
    pool = RenderPool(0)
    try:
        done: list[str] = []

        async def run(name: str, coro) -> None:
            await coro
            done.append(name)

        drafts = [
            asyncio.create_task(
                run(f"draft{i}", pool.render_draft(replace(STANDARD, title=f"T{i}")))
            )
            for i in range(8)
        ]
        await asyncio.sleep(0)  # the drafts are queued first
        await run("paid", pool.render(replace(STANDARD, title="Paid")))
        await asyncio.gather(*drafts)
        assert done.index("paid") <= 1, done
    finally:
        pool.close()


async def test_drafts_have_their_own_lower_priority_process():
    """With processes, drafts run in one process of their own, niced below the render
    workers (bench/preview_bench.py measures what that buys a paid render)."""
    own = os.nice(0)
    async with RenderPool(1, nice=2) as pool:
        render_pid, draft_pid = await pool._run(os.getpid), await pool._run(os.getpid, draft=True)
        assert render_pid != draft_pid != os.getpid()
        assert await pool._run(os.nice, 0) == min(19, own + 2)
        assert await pool._run(os.nice, 0, draft=True) == min(19, own + 2 + DRAFT_NICE)
        im = decode(await pool.render_draft(STANDARD))
        assert (im.format, im.size) == ("JPEG", (600, 315))
        assert await pool._run(os.getpid, draft=True) == draft_pid  # one process, kept


async def test_a_dead_draft_process_is_replaced():
    async with RenderPool(1) as pool:
        with pytest.raises(RenderError, match="died"):
            await pool._run(os._exit, 3, draft=True)  # stands in for a draft that crashes
        assert decode(await pool.render_draft(STANDARD)).size == (600, 315)
        assert decode(await pool.render(STANDARD)).size == (1200, 630), "paid lane untouched"


async def test_start_drafts_starts_the_draft_process_once_in_the_background():
    async with RenderPool(1) as pool:
        assert not pool._draft_executor._processes  # type: ignore[attr-defined]  # lazy
        pool.start_drafts()
        pool.start_drafts()  # once is enough
        assert len(pool._background) == 1
        await asyncio.gather(*pool._background)
        assert len(pool._draft_executor._processes) == 1  # type: ignore[attr-defined]
    inline = RenderPool(0)
    inline.start_drafts()  # nothing to start: drafts share the one thread
    assert not inline._background
    inline.close()

"""The project benchmark: prints one Markdown table.

usage: python -m bench.run [--quick] [--only SECTION[,SECTION]] [--rounds R] [--n N] [--no-pool]

A section is a function `(args) -> list[Row]` in SECTIONS; add yours to the list.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py` from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.samples import STANDARD, sample
from render import fonts
from render.card import RENDER_VERSION, render_card
from render.pool import RenderPool
from render.templates import TEMPLATES


@dataclasses.dataclass
class Row:
    section: str
    metric: str
    value: str
    note: str = ""


def _rounds(fn: Callable[[int], object], n: int, rounds: int) -> list[float]:
    """ms per call for each round of n calls (fn gets the call index)."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        out.append((time.perf_counter() - t0) * 1000 / n)
    return out


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


async def _throughput(processes: int, n: int) -> float:
    async with RenderPool(processes) as pool:
        await pool.warm_up()
        await asyncio.gather(*(pool.render(STANDARD) for _ in range(2 * processes)))
        t0 = time.perf_counter()
        await asyncio.gather(
            *(
                pool.render(dataclasses.replace(STANDARD, subtitle=f"Run {i % 50}"))
                for i in range(n)
            )
        )
        return n / (time.perf_counter() - t0)


def render_section(a: argparse.Namespace) -> list[Row]:
    """The standard card (bench/samples.py STANDARD == /work/shared/bench design.mjs) as PNG."""
    fonts.preload()
    size = len(render_card(STANDARD))
    rows = [Row("render", "RENDER_VERSION", RENDER_VERSION)]
    for _ in range(5):
        render_card(STANDARD)
    warm = _rounds(lambda i: render_card(STANDARD), a.n, a.rounds)
    rows.append(
        Row(
            "render",
            "standard card, ms/image",
            _ms(warm),
            "median (min–max) of rounds; one process, no output cache",
        )
    )
    rows.append(Row("render", "standard card, PNG bytes", f"{size:,}", "1200×630 RGB"))
    titles = [f"{STANDARD.title} {i}" for i in range(a.n * a.rounds + 1)]
    counter = iter(range(len(titles)))
    fresh = _rounds(
        lambda i: render_card(dataclasses.replace(STANDARD, title=titles[next(counter)])),
        a.n,
        a.rounds,
    )
    rows.append(
        Row(
            "render",
            "standard card, new title each time, ms/image",
            _ms(fresh),
            "title layout and glyphs not cached",
        )
    )
    for name in TEMPLATES:
        spec = sample(name)
        render_card(spec)
        t = _rounds(lambda i, s=spec: render_card(s), max(3, a.n // 5), 1)
        rows.append(
            Row(
                "render",
                f"template {name}, ms/image",
                f"{t[0]:.2f}",
                f"{len(render_card(spec)):,} bytes",
            )
        )
    if not a.no_pool:
        for p in (1, 2):
            rps = asyncio.run(_throughput(p, a.n * 4))
            rows.append(
                Row(
                    "render",
                    f"RenderPool({p}) renders/s",
                    f"{rps:.0f}",
                    "standard card, varying subtitle",
                )
            )
    return rows


def engine_section(a: argparse.Namespace) -> list[Row]:
    """The design engine's figures: repeated, new titles, a fork of `default`, render memory
    (bench/engine_bench.py; beside Takumi: bench/compare_reference.sh)."""
    from bench.engine_bench import measure

    m = measure(a.n, a.rounds)
    rows = []
    for key, label in (("standard", "standard card"), ("new_title", "new title each render"),
                       ("fork", "a user's fork of default")):  # fmt: skip
        cpu = [c for c, _ in m[key]]  # type: ignore[attr-defined]  # (cpu, wall) pairs
        rows.append(Row("engine", f"{label}, CPU ms/image", _ms(cpu)))
    for name, (used, bound) in m["memory"]["caches"].items():  # type: ignore[index]  # dict
        rows.append(
            Row("engine", f"{name} cache, MB", f"{used / 2**20:.1f}", f"bound {bound >> 20}")
        )
    return rows


def http_section(a: argparse.Namespace) -> list[Row]:
    """Cache-hit requests/s over real HTTP (bench/http_bench.py)."""
    from bench.http_bench import http_section as run

    return run(a)


def hotpath_section(a: argparse.Namespace) -> list[Row]:
    """The image API's hot path side by side: memory hits ÷ /health, a file-store hit at one
    client, uncached renders over HTTP ÷ X-Render-Ms (bench/hotpath_bench.py)."""
    from bench.hotpath_bench import hotpath_section as run

    return run(a)


def graphql_section(a: argparse.Namespace) -> list[Row]:
    """/graphql latency with a year of history (bench/graphql_bench.py)."""
    from bench.graphql_bench import graphql_section as run

    return run(a)


def metering_section(a: argparse.Namespace) -> list[Row]:
    """Quota + rate-limit overhead per request, REST usage latency (bench/metering_bench.py)."""
    from bench.metering_bench import metering_section as run

    return run(a)


def memory_section(a: argparse.Namespace) -> list[Row]:
    """Server RSS after large and mixed corpora, uncached render p50 (bench/memory_bench.py)."""
    from bench.memory_bench import memory_section as run

    return run(a)


def batch_section(a: argparse.Namespace) -> list[Row]:
    """A 100-item batch beside 100 sequential requests; a 2400x2400 ZIP batch's peak RSS
    (bench/batch_bench.py)."""
    from bench.batch_bench import batch_section as run

    return run(a)


def preview_section(a: argparse.Namespace) -> list[Row]:
    """A paid render's latency with and without 8 previews in flight (bench/preview_bench.py)."""
    from bench.preview_bench import preview_section as run

    return run(a)


SECTIONS: list[Callable[[argparse.Namespace], list[Row]]] = [
    render_section,
    engine_section,
    http_section,
    hotpath_section,
    graphql_section,
    metering_section,
    memory_section,
    batch_section,
    preview_section,
]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations")
    ap.add_argument("--only", help="comma list of section names (render, ...)")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--n", type=int)
    ap.add_argument("--no-pool", action="store_true", help="skip the process-pool rows")
    a = ap.parse_args(argv)
    a.rounds = a.rounds or (3 if a.quick else 7)
    a.n = a.n or (20 if a.quick else 100)
    only = set(a.only.split(",")) if a.only else None
    print("| section | metric | value | note |\n|---|---|---|---|")
    for section in SECTIONS:
        if only and section.__name__.removesuffix("_section") not in only:
            continue
        for r in section(a):
            print(f"| {r.section} | {r.metric} | {r.value} | {r.note} |", flush=True)


if __name__ == "__main__":
    main()

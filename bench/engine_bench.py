"""Our side of the Takumi comparison (bench/compare_reference.sh): the four figures of the
design engine on the standard card, measured in one process with the loops interleaved.

- the standard card repeated (the `default` built-in, drawn through its design);
- a new title on every render (the standard title plus " N": nothing of the title is reused);
- a user's design that forks `default` (its published design posted back, as the store keeps
  it), with the same fields: beside the built-in it forks;
- render memory: every byte-bounded render cache after a mixed corpus, against its bound.

CPU ms (process time: robust on a loaded machine) and wall ms per image, per round.

    python -m bench.engine_bench [--n N] [--rounds R] [--out FILE.json]
    python -m bench.engine_bench --table RESULTS_DIR   # the comparison table of a run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.samples import INTL, STANDARD, sample
from render import builtins, fonts
from render.card import render_card
from render.spec import CardSpec


def fork_of_default() -> CardSpec:
    """The standard card from a fork: the published `default` design as the store keeps it."""
    from resolvers.templates.store import canonical

    values = {**dict(STANDARD.fields), "subtitle": STANDARD.subtitle or ""}
    design = canonical(builtins.design("default") or {})
    return CardSpec.build(STANDARD.title, fields=values, design=design, template="tpl_bench@1")


def _loop(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of n calls."""
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.process_time() - c0) * 1000 / n, (time.perf_counter() - t0) * 1000 / n


def memory() -> dict[str, object]:
    """The render caches' bytes after a mixed corpus (every built-in, both themes, scripts,
    sizes), each beside the budget it may not pass."""
    from render import draw, text
    from render.design import stars

    for i, name in enumerate(sorted(builtins.names())):
        for theme in ("dark", "light"):
            for key, title in INTL.items():
                size = (1200, 630) if i % 2 else (800 + 100 * i, 600)
                render_card(sample(name, theme, width=size[0], height=size[1]) if key != "cjk"
                            else dataclasses.replace(sample(name, theme), title=title))  # fmt: skip
    caches = {"backgrounds": draw._BG_CACHE, "PNG bands": draw.PNG_BANDS,
              "glyph runs": text.render_piece.memo, "rounded masks": draw.round_mask.memo,
              "star masks": stars.star_mask.memo}  # fmt: skip
    return {
        "caches": {k: [c.size, c.max_bytes] for k, c in caches.items()},
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(n: int, rounds: int) -> dict[str, object]:
    fonts.preload()
    fork = fork_of_default()
    for _ in range(5):
        render_card(STANDARD), render_card(fork)
    serial = iter(range(10**9))
    loops = {
        "standard": lambda i: render_card(STANDARD),
        "new_title": lambda i: render_card(
            dataclasses.replace(STANDARD, title=f"{STANDARD.title} {next(serial)}")
        ),
        "fork": lambda i: render_card(fork),
    }
    out: dict[str, object] = {k: [] for k in loops}
    for _ in range(rounds):
        for name, fn in loops.items():
            out[name].append(_loop(fn, n))  # type: ignore[attr-defined]  # lists
    out["png_bytes"] = len(render_card(STANDARD))
    out["memory"] = memory()
    return out


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def table(results: Path) -> str:
    """The comparison table of a compare_reference.sh run: per round, ours ÷ Takumi's time
    in that round (CPU ms), then the median of those ratios."""
    rounds = sorted(results.glob("ours_r*.json"))
    rows: dict[str, list[float]] = {k: [] for k in ("takumi", "takumi_vary", "std", "new", "fork")}
    ratios: dict[str, list[float]] = {k: [] for k in ("std", "new", "fork", "std_wall", "new_wall")}
    ours: dict = {}
    for path in rounds:
        r = path.stem.removeprefix("ours_r")
        ours = json.loads(path.read_text())
        tk = [json.loads((results / f"takumi_v{v}_r{r}.json").read_text())["engines"]["takumi"]
              ["reps"][0] for v in (0, 1)]  # fmt: skip
        std, new, fork = (statistics.median(c for c, _ in ours[k])
                          for k in ("standard", "new_title", "fork"))  # fmt: skip
        cpu = [t["cpu_ms_per_image"] for t in tk]
        for key, value in zip(rows, (*cpu, std, new, fork), strict=True):
            rows[key].append(value)
        ratios["std"].append(std / cpu[0])
        ratios["new"].append(new / cpu[1])
        ratios["fork"].append(fork / std)
        walls = [statistics.median(w for _, w in ours[k]) for k in ("standard", "new_title")]
        ratios["std_wall"].append(walls[0] / tk[0]["ms_per_image"])
        ratios["new_wall"].append(walls[1] / tk[1]["ms_per_image"])
    mem = ours.get("memory", {})
    within = all(used <= bound for used, bound in mem.get("caches", {}).values())
    lines = [
        f"Rounds: {len(rounds)}, interleaved (Takumi repeated, Takumi new titles, ours), one "
        "pinned core. CPU ms per image, medians over rounds; ratios per round, then median.",
        "",
        "| figure | ours | Takumi | ratio (median, rounds) | target |",
        "|---|---|---|---|---|",
        f"| standard card, repeated | {_median(rows['std'])} | {_median(rows['takumi'])} | "
        f"{_median(ratios['std'])}× ({', '.join(f'{x:.2f}' for x in ratios['std'])}); wall "
        f"{_median(ratios['std_wall'])}× | ≤ 0.6× |",
        f"| a new title every render | {_median(rows['new'])} | {_median(rows['takumi_vary'])} "
        f"| {_median(ratios['new'])}× ({', '.join(f'{x:.2f}' for x in ratios['new'])}); wall "
        f"{_median(ratios['new_wall'])}× | ≤ 0.75× |",
        f"| a user's design forking `default` ÷ the built-in | {_median(rows['fork'])} | — | "
        f"{_median(ratios['fork'])}× ({', '.join(f'{x:.2f}' for x in ratios['fork'])}) "
        "| ≤ 1.1× |",
        f"| render caches within their byte bounds | {'yes' if within else 'NO'} | — | "
        + "; ".join(
            f"{k} {u / 2**20:.1f}/{b / 2**20:.0f} MB" for k, (u, b) in mem.get("caches", {}).items()
        )
        + f"; max RSS {mem.get('max_rss_mb', 0):.0f} MB | today's bounds |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--table", type=Path, help="print the table of a compare_reference run")
    a = ap.parse_args(argv)
    if a.table:
        print(table(a.table))
        return
    text = json.dumps(measure(a.n, a.rounds), indent=1)
    if a.out:
        a.out.write_text(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()

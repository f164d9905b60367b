// Small SVG bar charts (no library): a 30-day chart in three rows and a 12-month trend.
import { esc } from "./lib.js";

const compact = (n) => (n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));

// bars: [{top, bottom, value, label, tip}] -> an <svg role="img"> string.
// top/bottom: text above the bar area and below the value (day number, weekday, month).
export function barChart(bars, { slot = 24, barWidth = 15, height = 120, label, valueText = compact, cls = "" }) {
  const pad = 6, top = bars.some((b) => b.top !== undefined) ? 22 : 6, base = top + height;
  const w = bars.length * slot + pad * 2;
  const h = base + (bars.some((b) => b.bottom !== undefined) ? 42 : 24);
  const max = Math.max(...bars.map((b) => b.value), 0);
  const out = [];
  bars.forEach((b, i) => {
    const x = pad + i * slot, cx = x + slot / 2;
    const bh = b.value > 0 && max > 0 ? Math.max(3, Math.round((b.value / max) * (height - 6))) : 3;
    if (b.top !== undefined) out.push(`<text x="${cx}" y="14" text-anchor="middle">${esc(b.top)}</text>`);
    out.push(`<rect class="${b.value > 0 ? "b" : "z"}" x="${cx - barWidth / 2}" y="${base - bh}" width="${barWidth}" height="${bh}" rx="2"><title>${esc(b.tip)}</title></rect>`);
    if (b.value > 0) out.push(`<text class="v" x="${cx}" y="${base + 13}" text-anchor="middle">${esc(valueText(b.value))}</text>`);
    if (b.bottom !== undefined) out.push(`<text x="${cx}" y="${base + 32}" text-anchor="middle">${esc(b.bottom)}</text>`);
  });
  return `<svg class="chart ${cls}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${w} ${h}" preserveAspectRatio="xMidYMid meet">${out.join("")}</svg>`;
}

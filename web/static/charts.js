// Small SVG bar charts (no library): the 30-day chart in three rows and the 12-month trend.
// Drawn at the width they are shown at (one SVG unit = one CSS pixel), so labels keep the
// stylesheet's 12 px and every bar fits: columns where each bar has room for its labels,
// otherwise one row per bar (phone width), never a chart that scrolls or shrinks its text.
import { esc } from "./lib.js";

const compact = (n) => (n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));

// bars: [{top, bottom, under, row, value, tip}] -> an <svg role="img"> string.
// top: above the bar area (day number); bottom, under: the lines below the value (weekday;
// month, then year); row: the label of the bar in the one-row-per-bar layout.
export function barChart(
	bars,
	{ width, label, valueText = compact, cls = "", minSlot = 32, height = 120, rowLabel = 56 },
) {
	const w = Math.max(240, Math.floor(width || 0));
	const svg = (h, body) =>
		`<svg class="chart ${cls}" role="img" aria-label="${esc(label)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`;
	const max = Math.max(...bars.map((b) => b.value), 0);
	const scale = (v, room) => (v > 0 && max > 0 ? Math.max(3, Math.round((v / max) * room)) : 3);
	const rect = (b, x, y, bw, bh) =>
		`<rect class="${b.value > 0 ? "b" : "z"}" x="${x}" y="${y}" width="${bw}" height="${bh}" rx="2"><title>${esc(b.tip)}</title></rect>`;
	const out = [];
	const slot = (w - 12) / bars.length;
	if (slot >= minSlot) {
		const top = bars.some((b) => b.top !== undefined) ? 24 : 6,
			base = top + height;
		const lines = ["bottom", "under"].filter((k) => bars.some((b) => b[k] !== undefined)).length;
		const bw = Math.min(28, Math.round(slot * 0.6));
		bars.forEach((b, i) => {
			const cx = Math.round(6 + i * slot + slot / 2),
				bh = scale(b.value, height - 6);
			if (b.top !== undefined) out.push(`<text x="${cx}" y="15" text-anchor="middle">${esc(b.top)}</text>`);
			out.push(rect(b, cx - bw / 2, base - bh, bw, bh));
			if (b.value > 0)
				out.push(`<text class="v" x="${cx}" y="${base + 16}" text-anchor="middle">${esc(valueText(b.value))}</text>`);
			if (b.bottom !== undefined)
				out.push(`<text x="${cx}" y="${base + 36}" text-anchor="middle">${esc(b.bottom)}</text>`);
			if (b.under !== undefined)
				out.push(`<text x="${cx}" y="${base + 52}" text-anchor="middle">${esc(b.under)}</text>`);
		});
		return svg(base + 20 + lines * 17, out.join(""));
	}
	const rowH = 22,
		valueW = 64,
		barX = rowLabel,
		room = w - rowLabel - valueW;
	bars.forEach((b, i) => {
		const y = i * rowH,
			bh = 14,
			bl = scale(b.value, room - 4);
		out.push(`<text x="0" y="${y + 15}">${esc(b.row)}</text>`);
		out.push(rect(b, barX, y + (rowH - bh) / 2, bl, bh));
		if (b.value > 0) out.push(`<text class="v" x="${barX + bl + 6}" y="${y + 15}">${esc(valueText(b.value))}</text>`);
	});
	return svg(bars.length * rowH, out.join(""));
}

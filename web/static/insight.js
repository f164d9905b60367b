// Link Previews (docs/link-previews.md): which platforms fetched your signed cards over 30 days,
// the latest fetches, and "Check a page": what Facebook, X, LinkedIn, Slack and Discord will
// show for a page. Its data comes with the dashboard's one query (LINK_PREVIEWS, drawn by
// showLinkPreviews); the check calls POST /api/share-check.
import { barChart } from "./charts.js";
import { $, api, empty, html, num, plural, raw, setHTML, shortDate, txDate, WEEKDAYS } from "./lib.js";

const NAMES = {
	facebook: "Facebook",
	x: "X",
	linkedin: "LinkedIn",
	slack: "Slack",
	discord: "Discord",
	whatsapp: "WhatsApp",
	telegram: "Telegram",
	pinterest: "Pinterest",
	reddit: "Reddit",
	mastodon: "Mastodon",
	google: "Google",
	bing: "Bing",
	other_bot: "Other bots",
	browser: "Browsers",
};
const name = (p) => NAMES[p] || p;
export const LINK_PREVIEWS = `linkPreviews(days: 30) { total platforms { platform fetches lastSeen }
    daily { date platform fetches } recent(first: 10) { at platform userAgent title status cacheHit } }`;
const DAYS = 30;
const root = $("#link-previews");

function daysEnding(today) {
	const out = [];
	for (let i = DAYS - 1; i >= 0; i--) out.push(new Date(today.getTime() - i * 86400000));
	return out;
}

function chart(lp, width) {
	const byDay = new Map();
	for (const d of lp.daily) {
		const day = byDay.get(d.date) || [];
		day.push(d);
		byDay.set(d.date, day);
	}
	const now = new Date();
	const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
	const bars = daysEnding(today).map((d) => {
		const iso = d.toISOString().slice(0, 10);
		const rows = (byDay.get(iso) || []).sort((a, b) => b.fetches - a.fetches);
		const total = rows.reduce((n, r) => n + r.fetches, 0);
		const parts = rows.map((r) => `${name(r.platform)} ${num(r.fetches)}`).join(", ");
		return {
			top: d.getUTCDate(),
			bottom: WEEKDAYS[d.getUTCDay()],
			row: shortDate(d),
			value: total,
			tip: `${shortDate(d)}: ${num(total)}${parts ? ` (${parts})` : ""}`,
		};
	});
	const label = `Card fetches per day over the last ${DAYS} days, ${num(lp.total)} in all`;
	return raw(barChart(bars, { width, label, cls: "lp-chart" }));
}

function platforms(lp) {
	const top = Math.max(...lp.platforms.map((p) => p.fetches), 1);
	return html`<ul class="lp-platforms" aria-label="Fetches per platform, last ${DAYS} days">${lp.platforms.map(
		(p) => html`
    <li><span class="lp-name">${name(p.platform)}</span>
      <span class="lp-bar" aria-hidden="true"><span data-w="${Math.max(2, Math.round((p.fetches / top) * 100))}"></span></span>
      <span class="lp-n">${num(p.fetches)}</span>
      <span class="muted small lp-seen">${p.lastSeen ? `last ${txDate(p.lastSeen)}` : ""}</span></li>`,
	)}</ul>`;
}

function recent(lp) {
	if (!lp.recent.length) return "";
	return html`<h3 class="lp-h">Latest fetches</h3><div class="table-wrap"><table class="lp-recent">
    <thead><tr><th scope="col">When</th><th scope="col">Platform</th><th scope="col">Card</th><th scope="col">Answer</th></tr></thead>
    <tbody>${lp.recent.map(
			(r) => html`<tr><td>${txDate(r.at)}</td><td title="${r.userAgent}">${name(r.platform)}</td>
      <td class="lp-title">${r.title}</td><td class="muted small">${r.status === 304 ? "304 (had it)" : r.cacheHit ? "200, cached" : "200, rendered"}</td></tr>`,
		)}</tbody>
  </table></div>`;
}

let data = null,
	drawnAt = 0;

function render() {
	const body = $("#lp-data", root),
		lp = data;
	drawnAt = body.clientWidth;
	if (!lp.total) {
		setHTML(
			body,
			empty(
				"No fetches yet",
				" When someone shares a page whose og:image is one of your signed URLs, the platform fetches the card and it shows up here within seconds.",
			),
		);
		return;
	}
	setHTML(
		body,
		html`<p class="small muted">${plural(lp.total, "fetch", "fetches")} of your signed cards in the last ${DAYS} days</p>
    <div class="chart-box">${chart(lp, drawnAt)}</div>${platforms(lp)}${recent(lp)}`,
	);
	for (const el of body.querySelectorAll("[data-w]")) el.style.width = `${el.dataset.w}%`;
}

export function showLinkPreviews(lp, errors = []) {
	if (!root) return;
	root.setAttribute("aria-busy", "false");
	if (!lp) {
		const why = errors.find((e) => e.path?.[0] === "linkPreviews")?.message || "no answer";
		setHTML($("#lp-data", root), html`<p class="err" role="alert">Couldn't load link previews: ${why}</p>`);
		return;
	}
	data = lp;
	render();
}

// ---- Check a page ------------------------------------------------------------------------
const VERDICT_OK = "Looks good";

function kb(bytes) {
	return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function imageFacts(image) {
	if (!image) return html`<p class="small muted">No image found on the page.</p>`;
	const facts = [
		image.content_type,
		image.width && `${image.width}×${image.height}`,
		image.bytes != null && kb(image.bytes),
	].filter(Boolean);
	return html`<p class="small lp-image">Image: <a href="${image.url}" rel="noopener noreferrer" target="_blank">${image.url}</a>${facts.length ? html` <span class="muted">(${facts.join(", ")})</span>` : ""}</p>`;
}

function verdict(p) {
	const problems = p.problems.length;
	return html`<li class="lp-verdict ${p.ok ? "ok" : "bad"}">
    <div class="row between"><b>${name(p.platform)}</b><span class="lp-badge">${p.ok ? VERDICT_OK : plural(problems, "problem")}</span></div>
    ${p.title ? html`<p class="small">Title: ${p.title}</p>` : ""}
    ${p.problems.length ? html`<ul class="lp-problems">${p.problems.map((q) => html`<li><code>${q.code}</code> ${q.message}</li>`)}</ul>` : ""}
  </li>`;
}

function results(r) {
	return html`<p class="small">Read <a href="${r.final_url || r.url}" rel="noopener noreferrer" target="_blank">${r.final_url || r.url}</a>${r.status ? ` (HTTP ${r.status})` : ""}.</p>
    ${imageFacts(r.image)}
    <ul class="lp-verdicts" aria-label="What each platform shows">${r.platforms.map(verdict)}</ul>`;
}

async function check(event) {
	event.preventDefault();
	const form = event.currentTarget,
		out = $("#lp-result", root),
		button = $("button", form);
	const url = $("#lp-url", form).value.trim();
	if (!url) {
		setHTML(
			out,
			html`<p class="err" role="alert">Enter the address of a page, e.g. https://example.com/blog/post.</p>`,
		);
		return;
	}
	button.disabled = true;
	setHTML(out, html`<p class="muted small">Reading the page as each platform does…</p>`);
	try {
		setHTML(out, results(await api("/api/share-check", { body: { url } })));
	} catch (err) {
		setHTML(out, html`<p class="err" role="alert">${err.message}</p>`);
	} finally {
		button.disabled = false;
	}
}

if (root) {
	$("#lp-form", root).addEventListener("submit", check);
	let resizeTimer;
	addEventListener("resize", () => {
		// the chart is drawn at the width it is shown at
		clearTimeout(resizeTimer);
		resizeTimer = setTimeout(() => {
			if (data && $("#lp-data", root).clientWidth !== drawnAt) render();
		}, 150);
	});
}

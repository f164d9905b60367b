// The money panels: Current Balance (with its statistics), Recent Transactions, Recent Invoices.
// Amounts show cents (cash) with the exact ledger amount as a tooltip (usd); the balance alone
// keeps its 6 decimals. Balance = purchased + refunded − spent, and the panel shows all three.
import { dayOf, empty, html, longDate, money, num, pageData, plural, price, txDate, usd } from "./lib.js";

const SERVICES = {
	og_image: "OG images",
	og_image_overage: "OG image overage",
	ai_images: "Image processing",
	ai_data: "AI input tokens",
	ai_data_cached: "AI cached tokens",
	ai_data_completion: "AI completion tokens",
};
// Credits taken back after a Stripe refund of a purchase: a usage entry, but not a service.
const TAKEN_BACK = "purchase_refund";
export const svc = (s) => SERVICES[s] || s;
export const TX_SHOWN = 10; // rows before "Show all"

const cents = (s) => Math.round(Number(s || 0) * 100);

// Billing buttons without Stripe keys: disabled, the reason beside them and read with them.
export const BILLING_OFF = "Billing is not configured on this server.";
export const creditsButton = (cls, id) =>
	pageData.billing
		? html`<button class="btn ${cls}" type="button" data-action="credits">Purchase Credits</button>`
		: html`<span class="row"><button class="btn ${cls}" type="button" data-action="credits" disabled aria-describedby="${id}">Purchase Credits</button><span class="small off-reason" id="${id}">${BILLING_OFF}</span></span>`;

function equation(b) {
	const adds = cents(b.totalPurchased) + cents(b.totalRefunded) - cents(b.totalSpent) === cents(b.current);
	return html`<p class="small muted equation" id="balance-equation">${usd(b.totalPurchased)} purchased + ${usd(b.totalRefunded)} refunded − ${usd(b.totalSpent)} spent ${adds ? "=" : "≈"} ${usd(b.current)} balance</p>`;
}

export function balancePanel(b) {
	const taken = Number(b.totalSpent) - Number(b.creditsUsed);
	const est = b.estimates.map(
		(e) =>
			html`<tr><td>${svc(e.service)}</td><td class="muted hide-sm">${e.unit === "token" ? `${price(Number(e.unitPrice) * 1e6)} / 1M tokens` : `${price(e.unitPrice)} / image`}</td><td>${num(e.remainingUnits)} ${e.unit}s</td></tr>`,
	);
	const started = Number(b.totalPurchased) > 0 || Number(b.totalRefunded) > 0 || Number(b.totalSpent) > 0;
	return html`
    ${b.low && Number(b.totalPurchased) > 0 ? html`<div class="lowbal" role="alert"><span>⚠ Low balance: under $1.00. Top up to keep overage and AI services running.</span>${creditsButton("btn-danger btn-sm", "lowbal-off")}</div>` : ""}
    <div class="balance-line"><p class="big ${b.low ? "neg" : "pos"}" id="balance-value">${money(b.current, 6)}</p>
      <p class="muted small" id="balance-updated">Last updated ${txDate(b.lastUpdated)}</p></div>
    ${started ? equation(b) : html`<p class="small muted">No credits yet. Credits pay for images past your quota and for metered AI services; add them with Purchase Credits in Quick actions.</p>`}
    <dl class="stats">
      <div><dt>Total purchased</dt><dd>${usd(b.totalPurchased)}</dd></div>
      <div><dt>Total refunded</dt><dd>${usd(b.totalRefunded)}</dd></div>
      <div><dt>Total spent</dt><dd>${usd(b.totalSpent)}</dd></div>
      <div><dt>Credits used</dt><dd>${usd(b.creditsUsed)}</dd></div>
      <div><dt>API calls made</dt><dd>${num(b.apiCalls)}</dd></div>
      <div><dt>Tokens used</dt><dd>${num(b.tokensUsed)}</dd></div>
      <div><dt>Images processed</dt><dd>${num(b.imagesProcessed)}</dd></div>
    </dl>
    ${taken > 0 ? html`<p class="hint">Total spent includes ${usd(taken.toFixed(6))} of purchased credits taken back by a Stripe refund; Credits used is what services cost.</p>` : ""}
    <h3>Estimated usage remaining</h3>
    ${b.estimates.length ? html`<table class="estimates"><thead><tr><th scope="col">Service</th><th scope="col" class="hide-sm">Price</th><th scope="col">Remaining</th></tr></thead><tbody>${est}</tbody></table>` : html`<p class="empty">Add credits to see what they pay for.</p>`}`;
}

export function invoicesPanel(conn) {
	const rows = conn.edges.map((e) => e.node);
	if (!rows.length) return empty("No invoices yet", "Invoices from Stripe appear here after your first payment.");
	return html`<ul class="list">${rows.map(
		(i) => html`<li>
    <span><b>${longDate(dayOf(i.date))}</b> <span class="muted small">${i.number || ""}</span></span>
    <span class="row"><b>${usd(i.amount)}</b> <span class="badge">${i.status}</span>
    ${i.pdfUrl ? html`<a class="btn btn-sm" href="${i.pdfUrl}" target="_blank" rel="noopener noreferrer">Download PDF</a>` : ""}</span></li>`,
	)}</ul>`;
}

export function transactionsPanel(conn, b, all) {
	const rows = conn.edges.map((e) => e.node);
	if (!rows.length)
		return empty("No transactions yet", "Credit purchases, usage charges and refunds will be listed here.");
	const type = (t) => t.toLowerCase();
	const cut = (s) => (s.length > 50 ? `${s.slice(0, 50)}…` : s);
	const services = b ? b.services.filter((s) => s.service !== TAKEN_BACK) : [];
	const taken = b ? b.services.find((s) => s.service === TAKEN_BACK) : null;
	const more = rows.length > TX_SHOWN;
	return html`
    <dl class="summary">
      <div><dt>Total transactions</dt><dd>${num(b ? b.transactions : conn.totalCount)}</dd></div>
      ${
				b
					? html`<div><dt>Total purchased</dt><dd class="pos">${usd(b.totalPurchased)}</dd></div>
      <div><dt>Total refunded</dt><dd class="inf">${usd(b.totalRefunded)}</dd></div>
      <div><dt>Total spent</dt><dd class="neg">${usd(b.totalSpent)}</dd></div>
      <div><dt>Average per transaction</dt><dd>${usd(b.averagePerTransaction)}</dd></div>`
					: ""
			}
    </dl>
    ${services.length ? html`<h3>Service breakdown</h3><ul class="list" id="services">${services.map((s) => html`<li><span>${svc(s.service)} <span class="muted small">${plural(s.transactions, "transaction")}</span></span><b>${usd(s.amount)}</b></li>`)}</ul>` : ""}
    ${taken ? html`<p class="hint" id="taken-back">Not a service: ${usd(taken.amount)} of purchased credits taken back by ${plural(taken.transactions, "Stripe refund")} (in Total spent).</p>` : ""}
    <h3>Last ${rows.length} of ${num(conn.totalCount)}</h3>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Recent transactions table">
    <table class="tx"><thead><tr><th scope="col">Date</th><th scope="col">Type</th><th scope="col">Service</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Tokens</th><th scope="col" class="num">Images</th><th scope="col">Description</th></tr></thead>
    <tbody>${rows.map(
			(t, i) => html`<tr ${i >= TX_SHOWN && !all ? "hidden" : ""}>
      <td>${txDate(t.createdAt)}</td><td><span class="badge ${type(t.type)}">${t.type[0] + type(t.type).slice(1)}</span></td>
      <td>${t.service}</td><td class="num ${t.type === "USAGE" ? "neg" : "pos"}">${t.type === "USAGE" ? "−" : "+"}${usd(t.amount)}</td>
      <td class="num" data-label="Tokens">${num(t.tokens)}</td><td class="num" data-label="Images">${num(t.images)}</td>
      <td class="desc" title="${t.description}">${cut(t.description)}</td></tr>`,
		)}</tbody></table></div>
    ${more ? html`<p class="row tx-more"><button class="btn btn-sm" type="button" data-action="tx-all" aria-expanded="${all}">${all ? `Show the latest ${TX_SHOWN}` : `Show all ${rows.length}`}</button></p>` : ""}`;
}

// The dashboard: one GraphQL query fills every panel; refreshed every 5 minutes and on demand.
import { BILLING_OFF, balancePanel, invoicesPanel, transactionsPanel } from "./ledger-panels.js";
import {
	$,
	$$,
	ApiError,
	api,
	busy,
	clock,
	empty,
	gql,
	html,
	longDate,
	money,
	num,
	openDialog,
	pageData,
	plural,
	raw,
	setHTML,
	shortDate,
	showError,
	toast,
	txDate,
} from "./lib.js";
import { LINK_PREVIEWS, showLinkPreviews } from "./insight.js";
import { capMeter, capRow, editCap } from "./spending-cap.js";
import { historyPanel, trendPanel } from "./usage-charts.js";
import { WEBHOOKS, showWebhooks } from "./webhooks.js";

const PLAN = "id name monthlyQuota priceMonthly overagePrice requestsPerSecond";
const ME = `id email domain memberSince apiKey apiKeyCreatedAt overageEnabled overageCap subscriptionStatus plan { ${PLAN} }`;
const QUERY = `query Dashboard {
  me { ${ME} }
  ${LINK_PREVIEWS}
  ${WEBHOOKS}
  usage { quota used remaining percentUsed resetDate daysUntilReset overageSpend
    daily(days: 30) { date images apiCalls spend } monthly(months: 12) { month images spend } }
  balance { current totalPurchased totalRefunded totalSpent creditsUsed apiCalls tokensUsed
    imagesProcessed transactions averagePerTransaction low lastUpdated
    estimates { service unit unitPrice remainingUnits } services { service transactions amount tokens images } }
  transactions(first: 100) { totalCount edges { node { id createdAt type service amount tokens images description } } }
  invoices(first: 12) { totalCount edges { node { id number date amount currency status pdfUrl hostedUrl } } }
  notifications(first: 20) { id createdAt kind message read }
  plans { ${PLAN} }
}`;
const REFRESH_MS = 5 * 60 * 1000;
const state = { data: null, daily: "images", monthly: "images", txAll: false };

const body = (id) => $(`#${id} [data-body]`);
function fill(id, content) {
	const panel = $(`#${id}`);
	setHTML(body(id), content);
	panel.setAttribute("aria-busy", "false");
}
const failed = (what) =>
	html`<p class="err" role="alert">Couldn't load ${what}. <button class="btn btn-sm" type="button" data-retry>Retry</button></p>`;

// ---- panels ----------------------------------------------------------------------------
function usagePanel(u) {
	const pct = Math.round(u.percentUsed);
	const cls = pct >= 100 ? "over" : pct >= 80 ? "hot" : "";
	const reset = new Date(u.resetDate);
	return html`
    <p class="big">${num(u.used)} <small>/ ${num(u.quota)} images</small></p>
    <div class="progress ${cls}" role="progressbar" aria-label="Monthly quota used" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.min(pct, 100)}" aria-valuetext="${pct}% used"><span data-w="${Math.min(pct, 100)}"></span></div>
    <div class="row between small"><b>${pct}% used</b><span class="muted">${num(u.remaining)} left</span></div>
    <p class="muted small">Resets in ${plural(u.daysUntilReset, "day")} (${shortDate(reset)}, 00:00 UTC)</p>
    ${u.used === 0 ? html`<p class="small muted">No images yet this month. Try the <a href="#playground" data-action="test">Test API playground</a>, then call <code>/api/generate</code> with your key.</p>` : ""}`;
}

function planPanel(me) {
	const p = me.plan,
		top = p.id === "PUBLISHING";
	const status = me.subscriptionStatus;
	const off = raw(pageData.billing ? "" : 'disabled aria-describedby="billing-off"');
	return html`
    <p class="plan-name">${p.name}</p>
    <p class="muted small">${Number(p.priceMonthly) ? `${money(p.priceMonthly, 0)}/mo` : "Free"} · ${num(p.monthlyQuota)} images/month · ${p.requestsPerSecond} req/s${p.overagePrice ? ` · overage ${money(p.overagePrice)}/image` : " · hard stop at quota"}</p>
    ${status === "PAST_DUE" || status === "UNPAID" ? html`<p class="notice notice-bad">Your last payment failed: the API answers PAYMENT_PAST_DUE until it's settled in Manage Billing.</p>` : ""}
    <div class="row">
      ${top ? "" : html`<button class="btn btn-primary" type="button" data-action="upgrade" ${off}>Upgrade</button>`}
      <button class="btn" type="button" data-action="portal" ${off}>Manage Billing</button>
    </div>
    ${pageData.billing ? "" : html`<p class="hint off-reason" id="billing-off">${BILLING_OFF} Upgrades and payments are unavailable until the operator sets <code>STRIPE_SECRET_KEY</code>.</p>`}
    <p class="form-error" id="plan-panel-error" role="alert" hidden></p>`;
}

function notificationsPanel(list) {
	if (!list.length) return empty("All clear", "Quota alerts (80%, 95%, 100%) and low-balance warnings appear here.");
	return html`<ul class="list">${list.map(
		(n) => html`
    <li class="note"><span class="dot ${["QUOTA_100", "LOW_BALANCE", "SPENDING_CAP_100", "WEBHOOK_DISABLED"].includes(n.kind) ? "bad" : ""}" aria-hidden="true"></span>
      <span><span>${n.message}</span><br><span class="muted small">${txDate(n.createdAt)}</span></span></li>`,
	)}</ul>`;
}

function keyPanel(me) {
	if (!me.apiKey) return empty("No active key", "Regenerate to issue one.");
	return html`
    <div class="keybox"><code id="api-key">${me.apiKey}</code>
      <button class="btn" type="button" data-action="copy" aria-describedby="copy-status">Copy</button>
      <button class="btn" type="button" data-action="regenerate">Regenerate</button></div>
    <p class="muted small" id="copy-status" role="status" aria-live="polite"></p>
    <p class="small muted">Created ${me.apiKeyCreatedAt ? longDate(new Date(me.apiKeyCreatedAt)) : "—"}. Send it as <code>X-API-Key</code>; keep it out of client-side code and use signed URLs in pages.</p>
    <p class="small"><a href="/docs#api-key">→ View Docs</a></p>`;
}

function accountPanel(me, usage) {
	const free = me.plan.id === "FREE";
	return html`<dl class="kv">
    <dt>Email</dt><dd>${me.email}</dd>
    <dt>Domain</dt><dd id="domain-cell"><span>${me.domain || "—"}</span><button class="btn btn-sm" type="button" data-action="edit-domain" aria-label="Edit domain">Edit</button></dd>
    <dt>Plan</dt><dd>${me.plan.name}</dd>
    <dt>Member since</dt><dd>${longDate(new Date(me.memberSince))}</dd>
    <dt>Overage</dt><dd><label class="switch"><input type="checkbox" role="switch" id="overage" ${raw(me.overageEnabled ? "checked" : "")} ${raw(free ? "disabled" : "")} aria-describedby="overage-hint"> Keep rendering past the quota</label></dd>
    ${capRow(me)}
  </dl>
  <p class="hint" id="overage-hint">${free ? "The free plan stops at its quota; upgrade to pay for extra images from credits." : `Extra images cost ${money(me.plan.overagePrice)} each from your credit balance.`}</p>
  ${capMeter(me, usage)}`;
}

// ---- render & refresh ------------------------------------------------------------------
const width = (id) => body(id).clientWidth; // charts are drawn at the width they are shown at
const PANELS = [
	["usage", (d) => d.usage && usagePanel(d.usage), "your usage"],
	["plan", (d) => d.me && planPanel(d.me), "your plan"],
	["notifications", (d) => d.notifications && notificationsPanel(d.notifications), "notifications"],
	[
		"history",
		(d) => d.usage && d.me && historyPanel(d.usage, d.plans || [], d.me, state.daily, width("history")),
		"usage history",
	],
	["balance", (d) => d.balance && balancePanel(d.balance), "your balance"],
	["trend", (d) => d.usage && trendPanel(d.usage, state.monthly, width("trend")), "the monthly trend"],
	["apikey", (d) => d.me && keyPanel(d.me), "your API key"],
	["account", (d) => d.me && accountPanel(d.me, d.usage), "your account"],
	["invoices", (d) => d.invoices && invoicesPanel(d.invoices), "invoices"],
	["transactions", (d) => d.transactions && transactionsPanel(d.transactions, d.balance, state.txAll), "transactions"],
];

function render(only) {
	const d = state.data || {};
	for (const [id, fn, what] of PANELS) {
		if (only && !only.includes(id)) continue;
		fill(id, fn(d) || failed(what));
	}
	for (const bar of $$(".progress span[data-w]")) bar.style.width = `${bar.dataset.w}%`;
	drawnAt = width("history");
	if (d.me) $("#nav-email").textContent = d.me.email;
}

let timer, loading;
async function load(auto = false) {
	if (loading) return loading;
	const button = $("#refresh");
	button.disabled = true;
	button.textContent = "Refreshing…";
	loading = (async () => {
		try {
			const { data, errors } = await gql(QUERY, {}, { auto });
			state.data = data;
			render();
			showLinkPreviews(data.linkPreviews, errors);
			showWebhooks(data.webhookEndpoints, errors);
			$("#updated").textContent =
				`Last updated ${clock(new Date())}${errors.length ? " · some panels couldn't load" : ""}`;
			if (!document.body.dataset.loaded) performance.mark("panels-filled");
			document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
		} catch (err) {
			if (err.code === "UNAUTHENTICATED") return;
			if (!state.data) render();
			$("#updated").textContent = `Couldn't refresh: ${err.message}`;
		} finally {
			button.disabled = false;
			button.textContent = "Refresh Data";
			loading = null;
			clearTimeout(timer);
			timer = setTimeout(() => load(true), REFRESH_MS); // not activity: the session may idle out
		}
	})();
	return loading;
}

// ---- actions ---------------------------------------------------------------------------
async function download(button) {
	await busy(button, async () => {
		try {
			const res = await api("/api/transactions.csv", { method: "GET", raw: true });
			const name =
				/filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1] || "token_usage_history.csv";
			const url = URL.createObjectURL(await res.blob());
			const a = Object.assign(document.createElement("a"), { href: url, download: name });
			document.body.append(a);
			a.click();
			a.remove();
			setTimeout(() => URL.revokeObjectURL(url), 10000);
			toast(`Downloading ${name}`);
		} catch (err) {
			if (err.code !== "UNAUTHENTICATED") toast(err.message);
		}
	});
}

async function checkout(args, errorEl, button) {
	showError(errorEl, "");
	await busy(button, async () => {
		try {
			const vars = args.plan ? "($plan: PlanId)" : "($credits: Int)";
			const arg = args.plan ? "plan: $plan" : "credits: $credits";
			const { data, errors } = await gql(`mutation Checkout${vars} { createCheckoutSession(${arg}) { url } }`, args);
			if (errors.length) throw new ApiError(errors[0].message, errors[0].extensions?.code);
			location.assign(data.createCheckoutSession.url);
		} catch (err) {
			if (err.code !== "UNAUTHENTICATED") showError(errorEl, billingMessage(err));
		}
	});
}
const billingMessage = (err) =>
	err.code === "BILLING_NOT_CONFIGURED" ? `Billing is not configured on this server (${err.message})` : err.message;

function openPlans() {
	const d = state.data,
		current = d.me.plan.id;
	setHTML(
		$("#plan-list"),
		html`${d.plans
			.filter((p) => p.id !== "FREE")
			.map(
				(p) => html`
    <div class="plan ${p.id === current ? "current" : ""}"><h3>${p.name}</h3><span class="price">${money(p.priceMonthly, 0)}/mo</span>
    <ul><li>${num(p.monthlyQuota)} images/month</li><li>${p.requestsPerSecond} requests/second</li><li>${money(p.overagePrice)}/image overage</li></ul>
    ${p.id === current ? html`<span class="badge">Current plan</span>` : html`<button class="btn btn-primary" type="button" data-plan="${p.id}" aria-label="Choose ${p.name}, ${money(p.priceMonthly, 0)}/mo">Choose ${p.name}</button>`}</div>`,
			)}`,
	);
	showError($("#plan-error"), "");
	openDialog($("#plan-dialog"));
}

function openCredits() {
	setHTML(
		$("#credit-list"),
		html`${[5, 10, 25, 50, 100].map((n) => html`<button class="btn" type="button" data-credits="${n}">$${n}</button>`)}`,
	);
	showError($("#credits-error"), "");
	openDialog($("#credits-dialog"));
}

async function mutate(query, variables) {
	const { data, errors } = await gql(query, variables);
	if (errors.length) throw new ApiError(errors[0].message, errors[0].extensions?.code);
	return data;
}

async function copyKey(button) {
	const key = $("#api-key").textContent;
	const status = $("#copy-status");
	try {
		await navigator.clipboard.writeText(key);
		button.textContent = "Copied!";
		status.textContent = "API key copied to the clipboard.";
	} catch {
		getSelection().selectAllChildren($("#api-key"));
		status.textContent = "Press Ctrl+C (⌘C) to copy the selected key.";
	}
	setTimeout(() => {
		button.textContent = "Copy";
	}, 2000);
}

async function regenerate(button) {
	const err = $("#regen-error");
	showError(err, "");
	await busy(button, async () => {
		try {
			const data = await mutate(`mutation { regenerateApiKey { ${ME} } }`);
			state.data.me = data.regenerateApiKey;
			$("#regen-dialog").close();
			render(["apikey"]);
			$("#apikey [data-action=copy]")?.focus();
			toast("New key is active. The old key no longer works.");
		} catch (e) {
			if (e.code !== "UNAUTHENTICATED") showError(err, e.message);
		}
	});
}

function editDomain() {
	const cell = $("#domain-cell");
	setHTML(
		cell,
		html`<form class="inline-form" id="domain-form"><label class="sr-only" for="domain-input">Domain</label>
    <input id="domain-input" name="domain" value="${state.data.me.domain || ""}" placeholder="example.com" autocomplete="url">
    <button class="btn btn-sm btn-primary" type="submit">Save</button><button class="btn btn-sm" type="button" data-action="cancel-domain">Cancel</button>
    <p class="form-error" id="domain-error" role="alert" hidden></p></form>`,
	);
	const input = $("#domain-input");
	input.focus();
	$("#domain-form").addEventListener("submit", async (e) => {
		e.preventDefault();
		try {
			const data = await mutate(`mutation($d: String) { updateAccount(domain: $d) { ${ME} } }`, {
				d: input.value.trim() || null,
			});
			state.data.me = data.updateAccount;
			render(["account"]);
			$("#account [data-action=edit-domain]").focus();
			toast("Domain saved.");
		} catch (err) {
			showError($("#domain-error"), err.message);
		}
	});
}

async function setOverage(input) {
	try {
		const data = await mutate(`mutation($o: Boolean) { updateAccount(overageEnabled: $o) { ${ME} } }`, {
			o: input.checked,
		});
		state.data.me = data.updateAccount;
		toast(
			input.checked
				? "Overage on: images past the quota are paid from credits."
				: "Overage off: the API stops at the quota.",
		);
		render(["history"]);
	} catch (err) {
		input.checked = !input.checked;
		toast(err.message);
	}
}

// `template`: one to start with (the template studio's "Use in playground" link).
async function openPlayground(template) {
	const section = $("#playground");
	section.scrollIntoView({ behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
	const { mount } = await import("./playground.js");
	await mount($("#pg-body"), state.data?.me?.domain, typeof template === "string" ? template : undefined);
}

function toggleChart(t) {
	const { toggle, value } = t.dataset;
	state[toggle] = value;
	render([toggle === "daily" ? "history" : "trend"]);
	$(`[data-toggle=${toggle}][data-value=${value}]`).focus();
}

async function openPortal(t) {
	const err = $("#plan-panel-error");
	showError(err, "");
	await busy(t, async () => {
		try {
			location.assign((await mutate("mutation { createBillingPortalSession { url } }")).createBillingPortalSession.url);
		} catch (x) {
			if (x.code !== "UNAUTHENTICATED") showError(err, billingMessage(x));
		}
	});
}

// What a click does: by a data attribute that carries the argument (in this order), else by
// `data-action`.
const BY_ATTRIBUTE = [
	["retry", () => load()],
	["toggle", toggleChart],
	["plan", (t) => checkout({ plan: t.dataset.plan }, $("#plan-error"), t)],
	["credits", (t) => checkout({ credits: Number(t.dataset.credits) }, $("#credits-error"), t)],
];
const ACTIONS = {
	upgrade: openPlans,
	credits: openCredits,
	report: download,
	test(t, e) {
		e.preventDefault();
		openPlayground();
	},
	"tx-all"() {
		state.txAll = !state.txAll;
		render(["transactions"]);
		$("#transactions [data-action=tx-all]").focus();
	},
	copy: copyKey,
	regenerate() {
		showError($("#regen-error"), "");
		openDialog($("#regen-dialog"));
	},
	"edit-domain": editDomain,
	"cancel-domain"() {
		render(["account"]);
		$("#account [data-action=edit-domain]").focus();
	},
	"edit-cap"() {
		editCap(state.data.me, ME, (me) => {
			state.data.me = me;
			render(["account"]);
			$("#account [data-action=edit-cap]").focus();
		});
	},
	portal: openPortal,
};
document.addEventListener("click", (e) => {
	const t = e.target.closest("button, a[data-action]");
	if (!t) return;
	const a = t.dataset.action;
	const act = BY_ATTRIBUTE.find(([name]) => name in t.dataset)?.[1] ?? (Object.hasOwn(ACTIONS, a) && ACTIONS[a]);
	if (act) act(t, e);
});
// Charts follow the panel's width (one SVG unit per pixel): redrawn when it changes.
let drawnAt = 0,
	resizeTimer;
addEventListener("resize", () => {
	clearTimeout(resizeTimer);
	resizeTimer = setTimeout(() => {
		if (state.data && width("history") !== drawnAt) render(["history", "trend"]);
	}, 150);
});
document.addEventListener("change", (e) => {
	if (e.target.id === "overage") setOverage(e.target);
});
$("#regen-confirm").addEventListener("click", (e) => {
	e.preventDefault();
	regenerate(e.currentTarget);
});
$("#refresh").addEventListener("click", () => load());
$("#download").addEventListener("click", (e) => download(e.currentTarget));
$("#pg-open").addEventListener("click", openPlayground);
$("#signout").addEventListener("click", async (e) => {
	await busy(e.currentTarget, async () => {
		try {
			await api("/api/auth/logout");
		} catch {
			/* signed out either way */
		}
		sessionStorage.removeItem("ogapi.email");
		location.assign("/login?signed_out=1");
	});
});

// Back from Stripe: say what happened, then drop the parameters from the address.
const back = new URLSearchParams(location.search).get("checkout");
const BACK = {
	complete: "Payment received: your new plan or credits are in place.",
	pending: "Payment started: the credits arrive as soon as your bank confirms it.",
	open: "Checkout wasn't completed, so nothing changed.",
	canceled: "Checkout canceled: nothing was charged.",
};
if (BACK[back]) {
	setHTML(
		$("#banners"),
		html`<p class="notice ${back === "complete" ? "notice-ok" : ""}" role="status" id="checkout-banner">${BACK[back]}</p>`,
	);
	history.replaceState(null, "", "/dashboard");
}
load();
const startWith = new URLSearchParams(location.search).get("template");
if (startWith) openPlayground(startWith);

// Shared helpers: the one gql() client, REST calls, escaping templates, formatting, dialogs.
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
export const pageData = JSON.parse($("#page-data")?.textContent || "{}");

export class ApiError extends Error {
	constructor(message, code, status, body) {
		super(message);
		this.code = code;
		this.status = status;
		this.body = body;
	}
}

// A session that ended (idle or expired): back to sign-in with a message, the email kept.
export function sessionEnded() {
	if (pageData.email) sessionStorage.setItem("ogapi.email", pageData.email);
	const next = location.pathname + location.search;
	location.assign(`/login?expired=1&next=${encodeURIComponent(next)}`);
	return new ApiError("Your session has ended.", "UNAUTHENTICATED", 401);
}

const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

// `auto` (here and in `gql`): a request the page makes by itself, on a timer or as its own retry,
// not the person: the server does not count it as activity, so the session still ends after
// SESSION_IDLE_MINUTES of a page left open (docs/accounts.md).
export const AUTO_HEADERS = { "X-Auto-Refresh": "1" };

export async function api(path, { method = "POST", body, raw = false, auto = false } = {}) {
	let res;
	try {
		res = await fetch(path, {
			method,
			credentials: "same-origin",
			headers: {
				...(body === undefined ? { Accept: "application/json" } : JSON_HEADERS),
				...(auto ? AUTO_HEADERS : {}),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch {
		throw new ApiError("Can't reach the server. Check your connection and try again.", "NETWORK", 0);
	}
	if (res.ok) return raw ? res : res.status === 204 ? null : res.json().catch(() => null);
	const err = await res.json().catch(() => ({}));
	if (res.status === 401 && err.code === "UNAUTHENTICATED") throw sessionEnded();
	throw new ApiError(err.message || `Request failed (${res.status}).`, err.code || "HTTP_ERROR", res.status, err);
}

// GraphQL: {data, errors}; a signed-out answer leaves the page; a total failure throws.
export async function gql(query, variables = {}, { auto = false } = {}) {
	let res;
	try {
		res = await fetch("/graphql", {
			method: "POST",
			credentials: "same-origin",
			headers: auto ? { ...JSON_HEADERS, ...AUTO_HEADERS } : JSON_HEADERS,
			body: JSON.stringify({ query, variables }),
		});
	} catch {
		throw new ApiError("Can't reach the server. Check your connection and try again.", "NETWORK", 0);
	}
	const body = await res.json().catch(() => null);
	if (!body) throw new ApiError(`The server answered ${res.status}.`, "HTTP_ERROR", res.status);
	const errors = body.errors || [];
	if (errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) throw sessionEnded();
	if (!body.data && errors.length) {
		throw new ApiError(errors[0].message, errors[0].extensions?.code || "ERROR", res.status);
	}
	return { data: body.data || {}, errors };
}

// A tagged template that escapes every interpolation unless wrapped in raw().
const RAW = Symbol("raw");
export const raw = (s) => ({ [RAW]: String(s) });
const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ESC[c]);
const part = (v) => (Array.isArray(v) ? v.map(part).join("") : v && v[RAW] !== undefined ? v[RAW] : esc(v));
export const html = (strings, ...values) =>
	raw(strings.reduce((out, s, i) => out + s + (i < values.length ? part(values[i]) : ""), ""));
export const setHTML = (el, h) => {
	el.innerHTML = h[RAW];
};
// A panel's empty state: what is missing, then what to do about it.
export const empty = (title, text) => html`<div class="empty"><b>${title}</b>${text}</div>`;

// Formatting. Money arrives as decimal strings; display only, never arithmetic on money.
const nf = new Intl.NumberFormat("en-US");
export const num = (n) => nf.format(Number(n || 0));
export const money = (s, places = 2) => {
	const v = Number(s || 0);
	return (
		(v < 0 ? "-$" : "$") +
		Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places })
	);
};
// A unit price as exact as it is set, at least cents: "$0.075", "$0.0001", "$0.60".
export const price = (v) =>
	`$${Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
// The exact amount of a decimal string, 6 places as the ledger keeps it: "$1,234.500000".
export const exact = (s) => {
	const str = String(s ?? "0"),
		neg = str.startsWith("-");
	const [i, f = ""] = str.replace("-", "").split(".");
	return `${neg ? "-" : ""}$${nf.format(BigInt(i || "0"))}.${(f + "000000").slice(0, 6)}`;
};
// What people read: cents, or two significant digits for a non-zero amount under a cent
// ("$13.45", "$0.0074", "$0.0001"). The balance alone shows 6 places (money(s, 6)).
export const cash = (s) => {
	const v = Number(s || 0),
		a = Math.abs(v);
	if (a === 0 || a >= 0.01) return money(v);
	return (v < 0 ? "-$" : "$") + a.toLocaleString("en-US", { maximumSignificantDigits: 2 });
};
// cash() with the exact amount as its tooltip (a title attribute), for the page.
export const usd = (s, cls = "") => html`<span class="${cls}" title="${exact(s)}">${cash(s)}</span>`;
const MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const pad = (n) => String(n).padStart(2, "0");
export const dayOf = (iso) => {
	const [y, m, d] = iso.split("-").map(Number);
	return new Date(Date.UTC(y, m - 1, d));
};
export const shortDate = (d) => `${MON[d.getUTCMonth()]} ${d.getUTCDate()}`;
export const longDate = (d) => `${MON[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
export const monthLabel = (ym) => {
	const [y, m] = ym.split("-");
	return `${MON[m - 1]} ${y}`;
};
export const txDate = (iso) => {
	const d = new Date(iso);
	return `${MON[d.getMonth()]} ${d.getDate()}, ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
export const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
export const plural = (n, one, many = one + "s") => `${num(n)} ${n === 1 ? one : many}`;

let toastTimer;
export function toast(message) {
	let el = $("#toast");
	if (!el) {
		el = document.createElement("div");
		el.id = "toast";
		el.className = "toast";
		el.setAttribute("role", "status");
		document.body.append(el);
	}
	el.textContent = message;
	el.hidden = false;
	clearTimeout(toastTimer);
	toastTimer = setTimeout(() => {
		el.hidden = true;
	}, 3500);
}

// Modal dialogs: native showModal() makes the page inert; Tab also cycles inside; focus returns.
export function openDialog(dialog) {
	const opener = document.activeElement;
	dialog.showModal();
	const focusables = () =>
		$$("button,a[href],input,select,textarea,[tabindex]:not([tabindex='-1'])", dialog).filter(
			(e) => !e.disabled && !e.hidden,
		);
	const trap = (e) => {
		if (e.key !== "Tab") return;
		const f = focusables();
		if (!f.length) return;
		const first = f[0],
			last = f[f.length - 1];
		if (e.shiftKey && document.activeElement === first) {
			e.preventDefault();
			last.focus();
		} else if (!e.shiftKey && document.activeElement === last) {
			e.preventDefault();
			first.focus();
		}
	};
	dialog.addEventListener("keydown", trap);
	dialog.addEventListener(
		"close",
		() => {
			dialog.removeEventListener("keydown", trap);
			opener?.focus?.();
		},
		{ once: true },
	);
}

export function showError(el, message) {
	el.textContent = message || "";
	el.hidden = !message;
}

// Busy buttons: disabled while the promise runs; the label comes back afterwards.
export async function busy(button, fn) {
	button.disabled = true;
	try {
		return await fn();
	} finally {
		button.disabled = false;
	}
}

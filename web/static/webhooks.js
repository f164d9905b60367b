// Webhooks (docs/webhooks.md): the account's endpoints with their recent deliveries, add one
// (event checkboxes; its signing secret shown once), send a test ping, remove. The list comes
// with the dashboard's one query (WEBHOOKS, drawn by showWebhooks); changes go through
// /api/webhook-endpoints with the session, then the section reloads its own part.
import { $, api, empty, gql, html, plural, setHTML, toast, txDate } from "./lib.js";

export const WEBHOOKS = `webhookEndpoints { id url events enabled failingSince disabledAt
    deliveries(first: 5) { id eventId type createdAt status attempts lastStatus lastError nextAttemptAt } }`;
const MAX = 5;
const root = $("#webhooks");
let endpoints = [];

const STATUS = { DELIVERED: "Delivered", PENDING: "Retrying", FAILED: "Failed" };
function statusOf(d) {
	if (d.status === "PENDING" && !d.lastError) return "Sending";
	return STATUS[d.status] || d.status;
}
function answer(d) {
	if (d.status === "DELIVERED") return `HTTP ${d.lastStatus}`;
	const next = d.nextAttemptAt ? ` · next try ${txDate(d.nextAttemptAt)}` : "";
	return `${d.lastError || "—"}${next}`;
}

function deliveries(e) {
	if (!e.deliveries.length)
		return html`<p class="small muted">No deliveries yet. <b>Send test</b> posts a <code>ping</code>.</p>`;
	return html`<div class="table-wrap"><table class="lp-recent wh-log" aria-label="Recent deliveries to ${e.url}">
    <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th></tr></thead>
    <tbody>${e.deliveries.map(
			(d) => html`<tr><td>${txDate(d.createdAt)}</td><td><code>${d.type}</code></td>
      <td><span class="badge wh-${d.status.toLowerCase()}">${statusOf(d)}</span></td><td>${plural(d.attempts, "attempt")}</td>
      <td class="small muted">${answer(d)}</td></tr>`,
		)}</tbody>
  </table></div>`;
}

function state(e) {
	if (!e.enabled)
		return html`<span class="badge wh-failed">Disabled</span> <span class="small muted">after 24 h of failures; a test that succeeds enables it</span>`;
	if (e.failingSince)
		return html`<span class="badge wh-pending">Failing</span> <span class="small muted">since ${txDate(e.failingSince)}</span>`;
	return html`<span class="badge wh-delivered">Enabled</span>`;
}

function endpoint(e) {
	return html`<li class="wh-endpoint" data-id="${e.id}">
    <div class="row between"><code class="wh-url">${e.url}</code>
      <span class="row"><button class="btn btn-sm" type="button" data-wh="test" aria-label="Send a test to ${e.url}">Send test</button>
      <button class="btn btn-sm" type="button" data-wh="remove" aria-label="Remove ${e.url}">Remove</button></span></div>
    <p class="small">${state(e)} · ${e.events.map((t, i) => html`${i ? ", " : ""}<code>${t}</code>`)}</p>
    <div class="wh-confirm" hidden><p class="small"><b>Remove this endpoint?</b> It stops receiving events at once and its delivery log goes with it.</p>
      <div class="row"><button class="btn btn-sm btn-danger" type="button" data-wh="confirm">Remove endpoint</button><button class="btn btn-sm" type="button" data-wh="cancel">Keep it</button></div></div>
    ${deliveries(e)}
  </li>`;
}

function render() {
	const list = $("#wh-list", root);
	const full = endpoints.length >= MAX;
	$("#wh-form button[type=submit]", root).disabled = full;
	$("#wh-full", root).hidden = !full;
	if (!endpoints.length) {
		setHTML(
			list,
			empty(
				"No endpoints yet",
				" Add a URL below to have quota alerts, a low balance and plan changes POSTed to it, signed with a secret only you hold.",
			),
		);
		return;
	}
	setHTML(
		list,
		html`<p class="small muted">${plural(endpoints.length, "endpoint")} of ${MAX}</p><ul class="list wh-endpoints">${endpoints.map(endpoint)}</ul>`,
	);
}

export function showWebhooks(list, errors = []) {
	if (!root) return;
	root.setAttribute("aria-busy", "false");
	if (!list) {
		const why = errors.find((e) => e.path?.[0] === "webhookEndpoints")?.message || "no answer";
		setHTML($("#wh-list", root), html`<p class="err" role="alert">Couldn't load webhooks: ${why}</p>`);
		return;
	}
	endpoints = list;
	render();
}

async function reload() {
	const { data, errors } = await gql(`{ ${WEBHOOKS} }`);
	showWebhooks(data.webhookEndpoints, errors);
}

function showSecret(made) {
	setHTML(
		$("#wh-secret", root),
		html`<div class="notice notice-ok wh-secret" role="status">
    <p><b>Endpoint added.</b> Its signing secret is shown this once: copy it into your receiver now (<a href="/docs#webhooks">how to verify a delivery</a>).</p>
    <div class="keybox"><code id="wh-secret-value">${made.secret}</code><button class="btn btn-sm" type="button" data-wh="copy">Copy secret</button><button class="btn btn-sm" type="button" data-wh="done">Done</button></div>
  </div>`,
	);
	$("[data-wh=copy]", root).focus();
}

async function add(event) {
	event.preventDefault();
	const form = event.currentTarget,
		error = $("#wh-error", root),
		button = $("button[type=submit]", form);
	const url = $("#wh-url", form).value.trim();
	const events = [...form.querySelectorAll("input[name=events]:checked")].map((i) => i.value);
	const fail = (message) => {
		error.textContent = message;
		error.hidden = false;
	};
	error.hidden = true;
	if (!url) return fail("Enter the URL your server receives webhooks at, e.g. https://example.com/hooks/ogapi.");
	if (!events.length) return fail("Choose at least one event.");
	button.disabled = true;
	try {
		const made = await api("/api/webhook-endpoints", { body: { url, events } });
		form.reset();
		await reload();
		showSecret(made);
	} catch (err) {
		fail(err.message);
	} finally {
		button.disabled = endpoints.length >= MAX;
	}
}

async function act(button) {
	const item = button.closest("[data-id]"),
		id = item?.dataset.id,
		what = button.dataset.wh;
	if (what === "copy") {
		const secret = $("#wh-secret-value", root).textContent;
		try {
			await navigator.clipboard.writeText(secret);
			toast("Signing secret copied.");
		} catch {
			getSelection().selectAllChildren($("#wh-secret-value", root));
			toast("Press Ctrl+C (⌘C) to copy the selected secret.");
		}
	} else if (what === "done") {
		setHTML($("#wh-secret", root), html``);
		$("#wh-url", root).focus();
	} else if (what === "remove" || what === "cancel") {
		$(".wh-confirm", item).hidden = what === "cancel";
		(what === "remove" ? $("[data-wh=confirm]", item) : $("[data-wh=remove]", item)).focus();
	} else if (what === "confirm" || what === "test") {
		button.disabled = true;
		try {
			if (what === "confirm") {
				await api(`/api/webhook-endpoints/${encodeURIComponent(id)}`, { method: "DELETE" });
				toast("Endpoint removed.");
			} else {
				const sent = await api(`/api/webhook-endpoints/${encodeURIComponent(id)}/test`);
				const d = sent.delivery;
				toast(
					d.status === "delivered"
						? `Test delivered: HTTP ${d.last_status}.`
						: `Test failed: ${d.last_error}. Fix the endpoint, then send another test.`,
				);
			}
			await reload();
			if (what === "test") $(`[data-id="${id}"] [data-wh=test]`, root)?.focus();
			else $("#wh-url", root).focus();
		} catch (err) {
			button.disabled = false;
			toast(err.message);
		}
	}
}

if (root) {
	$("#wh-form", root).addEventListener("submit", add);
	root.addEventListener("click", (e) => {
		const button = e.target.closest("button[data-wh]");
		if (button) act(button);
	});
}

// Test API playground: a form generated from /api/templates, a live debounced preview through
// the session's preview route (a free, watermarked 600 px draft on its own hourly budget; never
// counts toward quota), the signed URL and <meta> block (the real image), and the card as X,
// LinkedIn, Facebook, Slack and Discord would show it.
import { $, $$, AUTO_HEADERS, api, gql, html, sessionEnded, setHTML, toast } from "./lib.js";

const LABELS = {
	bg_color: "Background colour",
	text_color: "Text colour",
	accent_color: "Accent colour",
	sqft: "Square feet",
	stat_value: "Stat value",
	stat_label: "Stat label",
};
const label = (n) =>
	LABELS[n] ||
	n
		.replace(/_url$/, " URL")
		.replace(/_/g, " ")
		.replace(/^./, (c) => c.toUpperCase());
// Sample values for a first card that looks finished (each template draws the fields it has).
const SAMPLE = {
	title: "Ship beautiful link previews in minutes",
	subtitle: "Open Graph cards rendered from templates, signed and cached",
	author_name: "Ada Lovelace",
	reading_time: "5 min read",
	brand: "Acme Blog",
	date: new Date().toLocaleDateString("en-US", { month: "short", day: "numeric", year: "numeric" }),
};
// The X handle and the address a preview shows: the account's domain, else a stand-in (never
// the server's own address, which is no site's name: "@127" from 127.0.0.1).
export function siteOf(domain) {
	const site = (domain || "")
		.trim()
		.replace(/^https?:\/\//, "")
		.replace(/\/.*$/, "")
		.toLowerCase();
	if (!site || /^[\d.:[\]]+$/.test(site) || site.startsWith("localhost"))
		return { site: "yoursite.com", handle: "yoursite", real: false };
	return {
		site,
		handle:
			site
				.replace(/^www\./, "")
				.split(".")[0]
				.replace(/[^a-z0-9_]/g, "")
				.slice(0, 15) || "yoursite",
		real: true,
	};
}
const PLATFORMS = [
	["x", "X / Twitter"],
	["linkedin", "LinkedIn"],
	["facebook", "Facebook"],
	["slack", "Slack"],
	["discord", "Discord"],
];
let templates,
	root,
	timer,
	controller,
	imageUrl,
	site,
	platform = "x";

// The built-ins, then the account's own templates (the studio's, docs/dashboard.md).
const OWN = "{ templates { id name description custom fields { name type required maxLength } } }";
async function load() {
	const [pub, own] = await Promise.all([api("/api/templates", { method: "GET" }), gql(OWN)]);
	const mine = (own.data.templates || [])
		.filter((t) => t.custom)
		.map((t) => ({
			...t,
			name: `${t.name} (yours)`,
			fields: t.fields.map((f) => ({ ...f, max_length: f.maxLength })),
		}));
	return [...pub.templates, ...mine];
}

// `start`: a template to start with (the studio's "Use in playground": /dashboard?template=tpl_…).
export async function mount(el, domain, start) {
	site = siteOf(domain);
	if (root) {
		choose(start);
		$("#pg-template", root)?.focus();
		return;
	}
	root = el;
	setHTML(el, html`<p class="muted" role="status">Loading templates…</p>`);
	try {
		templates = await load();
	} catch (err) {
		root = null;
		setHTML(el, html`<p class="err" role="alert">Couldn't load templates: ${err.message}</p>`);
		return;
	}
	setHTML(
		el,
		html`<div class="pg">
    <form id="pg-form" novalidate>
      <div class="pg-fields">
        <div class="field"><label for="pg-template">Template</label><select id="pg-template" name="template">${templates.map((t) => html`<option value="${t.id}">${t.name}</option>`)}</select></div>
        <div class="field"><label for="pg-theme">Theme</label><select id="pg-theme" name="theme"><option>dark</option><option>light</option></select></div>
        <p class="hint wide" id="pg-desc"></p>
        <div class="wide pg-fields" id="pg-fields"></div>
      </div>
    </form>
    <div>
      <div class="pg-img" id="pg-img" aria-live="polite"><span class="muted small">Preview appears here</span></div>
      <p class="small muted" id="pg-status" role="status">Previews are free drafts (600 px, marked "PREVIEW"): they never count toward your quota. The signed URL below is the real image.</p>
      <div class="pg-out">
        <div class="row between"><b class="small">Signed URL</b><button class="btn btn-sm" type="button" id="pg-copy-url">Copy URL</button></div>
        <pre id="pg-url" tabindex="0" aria-label="Signed URL">…</pre>
      </div>
      <div class="pg-out">
        <div class="row between"><b class="small">&lt;meta&gt; tags</b><button class="btn btn-sm" type="button" id="pg-copy-meta">Copy meta tags</button></div>
        <pre id="pg-meta" tabindex="0" aria-label="Meta tags">…</pre>
      </div>
      <h3>Link previews</h3>
      <div class="tabs" role="tablist" aria-label="Platform">${PLATFORMS.map(([id, name]) => html`<button class="btn btn-sm" type="button" role="tab" id="tab-${id}" aria-controls="pg-mock" aria-selected="${id === platform}" tabindex="${id === platform ? 0 : -1}" data-platform="${id}">${name}</button>`)}</div>
      <div id="pg-mock" role="tabpanel" aria-labelledby="tab-${platform}"></div>
    </div>
  </div>`,
	);
	const form = $("#pg-form");
	form.addEventListener("input", (e) => {
		if (e.target.type === "color") sync(e.target);
		else if (e.target.pattern) colours();
		schedule();
	});
	$("#pg-template").addEventListener("change", () => {
		fields();
		schedule(0);
	});
	$("#pg-theme").addEventListener("change", colours);
	$(".tabs", root).addEventListener("click", (e) => {
		const b = e.target.closest("[data-platform]");
		if (b) pick(b.dataset.platform);
	});
	$(".tabs", root).addEventListener("keydown", (e) => {
		const i = PLATFORMS.findIndex(([id]) => id === platform),
			n = PLATFORMS.length;
		const j = e.key === "ArrowRight" ? (i + 1) % n : e.key === "ArrowLeft" ? (i + n - 1) % n : -1;
		if (j >= 0) {
			e.preventDefault();
			pick(PLATFORMS[j][0]);
			$(`#tab-${platform}`).focus();
		}
	});
	$("#pg-copy-url").addEventListener("click", (e) => copy($("#pg-url").textContent, e.currentTarget, "Copy URL"));
	$("#pg-copy-meta").addEventListener("click", (e) =>
		copy($("#pg-meta").textContent, e.currentTarget, "Copy meta tags"),
	);
	if (!choose(start)) fields();
	schedule(0);
	$("#pg-template").focus();
}

function choose(id) {
	if (!id || !templates.some((t) => t.id === id)) return false;
	$("#pg-template").value = id;
	fields();
	schedule(0);
	return true;
}

function fields() {
	const t = templates.find((x) => x.id === $("#pg-template").value);
	const old = Object.fromEntries(new FormData($("#pg-form")));
	$("#pg-desc").textContent = t.description || "";
	setHTML(
		$("#pg-fields"),
		html`${t.fields.map((f) => {
			const id = `pg-f-${f.name}`,
				value = old[f.name] ?? SAMPLE[f.name] ?? "";
			const wide = f.name === "title" || f.name === "subtitle" || f.type === "url";
			const input =
				f.type === "color"
					? html`<div class="row"><input id="${id}" name="${f.name}" value="${value}" maxlength="9" pattern="#[0-9a-fA-F]{3,8}" aria-describedby="${id}-d"><input type="color" data-for="${id}" aria-label="Pick ${label(f.name).toLowerCase()}"></div><p class="hint" id="${id}-d"></p>`
					: html`<input id="${id}" name="${f.name}" value="${value}" ${f.required ? "required" : ""} maxlength="${f.max_length || 2048}" type="${f.type === "url" ? "url" : "text"}" ${f.type === "number" ? "inputmode=decimal" : ""} ${f.type === "url" ? "placeholder=https://…" : ""}>`;
			return html`<div class="field ${wide ? "wide" : ""}"><label for="${id}">${label(f.name)}${f.required ? " (required)" : ""}</label>${input}</div>`;
		})}`,
	);
	colours();
}

// Colour fields left empty show the card's own colours for the theme (GET /api/templates).
function colours() {
	const t = templates.find((x) => x.id === $("#pg-template").value);
	const given = t.colors?.[$("#pg-theme").value] || {};
	for (const picker of $$("input[type=color]", root)) {
		const text = $(`#${picker.dataset.for}`),
			base = given[text.name] || "#000000";
		text.placeholder = base;
		$(`#${text.id}-d`).textContent = text.value ? "" : `Template default ${base}`;
		picker.value = /^#[0-9a-f]{6}$/i.test(text.value) ? text.value : base;
	}
}

function sync(picker) {
	const t = $(`#${picker.dataset.for}`);
	t.value = picker.value;
	colours();
}

function params() {
	const out = {};
	for (const [k, v] of new FormData($("#pg-form"))) if (String(v).trim()) out[k] = String(v).trim();
	return out;
}

// `auto`: the page's own retry after a 429, not an edit: sent as a timed refresh (lib.js).
function schedule(ms = 400, auto = false) {
	clearTimeout(timer);
	timer = setTimeout(() => update(auto), ms);
}

async function update(auto = false) {
	const p = params(),
		status = $("#pg-status");
	controller?.abort();
	controller = new AbortController();
	const { signal } = controller;
	if (!p.title) {
		status.textContent = "Enter a title to render the card.";
		return;
	}
	status.textContent = "Rendering…";
	const t0 = performance.now();
	try {
		const res = await fetch(`/api/dashboard/preview?${new URLSearchParams(p)}`, {
			credentials: "same-origin",
			signal,
			headers: auto ? AUTO_HEADERS : {},
		});
		if (res.ok) {
			const blob = await res.blob();
			if (imageUrl) URL.revokeObjectURL(imageUrl);
			imageUrl = URL.createObjectURL(blob);
			setHTML(
				$("#pg-img"),
				html`<img id="pg-image" src="${imageUrl}" alt="Preview of the ${p.template} card: ${p.title}">`,
			);
			$("#pg-img").classList.remove("stale");
			status.textContent = `Rendered in ${Math.round(performance.now() - t0)} ms · ${budget(res)}`;
			mock();
		} else if (!(await refused(res, status))) return;
		if (signal.aborted) return;
		const signed = await api("/api/dashboard/sign", { body: p, auto });
		if (signal.aborted) return;
		$("#pg-url").textContent = signed.url;
		$("#pg-meta").textContent = signed.meta;
	} catch (err) {
		if (err.name !== "AbortError") status.textContent = err.message;
	}
}

// What is left of the hour's free previews (the X-RateLimit-* headers of the preview route).
function budget(res) {
	const left = res.headers.get("X-RateLimit-Remaining"),
		limit = res.headers.get("X-RateLimit-Limit");
	const note = "free draft, not counted";
	return left === null ? note : `${note} · ${left} of ${limit} previews left this hour`;
}

// A refused preview: the last image stays (dimmed) and a message says why. Over the per-second
// limit the form catches up by itself; over the hour's budget it says when previews come back
// (and tries again then, or on the next edit). True when the signed URL should still be minted.
async function refused(res, status) {
	const err = await res.json().catch(() => ({}));
	if (res.status === 401) {
		sessionEnded();
		return false;
	}
	if (res.status !== 429) {
		status.textContent = err.message || `Preview failed (${res.status}).`;
		return false;
	}
	const wait = Math.max(1, Math.ceil(Number(res.headers.get("Retry-After")) || 1));
	$("#pg-img").classList.toggle("stale", Boolean(imageUrl));
	if (res.headers.get("X-RateLimit-Remaining") === "0") {
		const limit = res.headers.get("X-RateLimit-Limit"),
			when = wait < 90 ? `${wait} s` : `${Math.ceil(wait / 60)} min`;
		status.textContent = `You've used this hour's ${limit} free previews. The next one is ready in ${when}; the signed URL below is up to date.`;
	} else {
		status.textContent = "Catching up with your edits…";
	}
	schedule(wait * 1000, true);
	return true;
}

function pick(id) {
	platform = id;
	for (const b of $$("[role=tab]", root)) {
		const on = b.dataset.platform === id;
		b.setAttribute("aria-selected", on);
		b.tabIndex = on ? 0 : -1;
	}
	$("#pg-mock").setAttribute("aria-labelledby", `tab-${id}`);
	mock();
}

function mock() {
	if (!imageUrl) return;
	const p = params();
	const title = p.title,
		desc = p.subtitle || "",
		img = html`<img src="${imageUrl}" alt="">`;
	const host = site.site;
	const views = {
		x: html`<div class="post"><span class="av" aria-hidden="true"></span><div><b>Your site</b> <span class="muted">@${site.handle} · 1m</span><p>New on the blog: ${title}</p><div class="mock mock-x">${img}<span class="m-u">${host}</span></div></div></div>`,
		linkedin: html`<div class="post"><span class="av" aria-hidden="true"></span><div><b>Your company</b><p class="muted small">1m · 🌐</p><div class="mock mock-li">${img}<div><div class="m-t">${title}</div><div class="m-u">${host}</div></div></div></div></div>`,
		facebook: html`<div class="mock mock-fb">${img}<div><div class="m-u">${host}</div><div class="m-t">${title}</div><div class="m-d">${desc}</div></div></div>`,
		slack: html`<div class="mock mock-slack"><div class="m-u"><b>${host}</b></div><div class="m-t">${title}</div><div class="m-d">${desc}</div>${img}</div>`,
		discord: html`<div class="mock mock-dc"><div class="m-u">${host}</div><div class="m-t">${title}</div><div class="m-d">${desc}</div>${img}</div>`,
	};
	setHTML(
		$("#pg-mock"),
		html`${views[platform]}${site.real ? "" : html`<p class="hint">Shown with a stand-in address: set your domain in Account Overview to see your own.</p>`}`,
	);
}

async function copy(text, button, labelText) {
	try {
		await navigator.clipboard.writeText(text);
		button.textContent = "Copied!";
	} catch {
		toast("Copy failed: select the text and copy it by hand.");
	}
	setTimeout(() => {
		button.textContent = labelText;
	}, 2000);
}

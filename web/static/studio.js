// Template studio (docs/dashboard.md): the account's templates at /dashboard/templates, "New
// template" from a built-in (a fork) or a blank card, and the editor at /dashboard/templates/tpl_….
import { $, api, empty, gql, html, openDialog, setHTML, showError, txDate } from "./lib.js";
import { thumb } from "./studio-canvas.js";
import { dirty, openEditor } from "./studio-editor.js";

const LIST = "{ templates { id name custom version updatedAt } }";
const BLANK = {
	width: 1200,
	height: 630,
	background: "#0f172a",
	fields: { title: { type: "string", required: true, max_length: 120 } },
	layers: [
		{
			type: "text",
			name: "Title",
			box: [80, 200, 1040, 230],
			text: "{{title}}",
			weight: 700,
			size: 64,
			min_size: 32,
			max_lines: 3,
			color: "#ffffff",
		},
	],
};
let builtins = [],
	here = location.pathname;

// A yes/no question in the page's own dialog: resolves true when confirmed.
export function confirmBox(title, text, ok) {
	const d = $("#st-confirm");
	$("#st-confirm-h").textContent = title;
	$("#st-confirm-d").textContent = text;
	$("#st-confirm-ok").textContent = ok;
	d.returnValue = "";
	openDialog(d);
	return new Promise((done) => d.addEventListener("close", () => done(d.returnValue === "ok"), { once: true }));
}

const ask = (what = "Leave") =>
	confirmBox(`${what} without saving?`, "Your changes to this template are not saved.", what);

export async function go(path, push = true) {
	if (push && dirty() && !(await ask())) return;
	dirty(false);
	if (!path.startsWith("/dashboard/templates")) {
		location.assign(path);
		return;
	}
	if (push) history.pushState(null, "", path);
	const id = path.split("/")[3];
	here = path;
	$("#st-list-view").hidden = Boolean(id);
	$("#st-editor").hidden = !id;
	document.title = `${id ? "Edit template" : "Templates"} · OG Image API`;
	if (id) openEditor(id, go, confirmBox);
	else list();
}

async function list() {
	const box = $("#st-list");
	box.setAttribute("aria-busy", "true");
	let rows;
	try {
		rows = (await gql(LIST)).data.templates;
	} catch (err) {
		setHTML(
			box,
			html`<p class="err" role="alert">Couldn't load your templates: ${err.message} <button class="btn btn-sm" type="button" data-retry>Try again</button></p>`,
		);
		box.removeAttribute("aria-busy");
		return;
	}
	builtins = rows.filter((t) => !t.custom);
	const own = rows.filter((t) => t.custom);
	setHTML(
		box,
		own.length
			? html`<ul class="st-cards">${own.map(
					(t) => html`<li class="card">
      <a href="/dashboard/templates/${t.id}" class="st-thumb" data-thumb="${t.id}" data-title="${t.name}" aria-label="Edit ${t.name}"><span class="muted small">Loading preview…</span></a>
      <div class="st-card-body"><a href="/dashboard/templates/${t.id}" class="st-card-name">${t.name}</a>
      <p class="small muted">Version ${t.version} · changed ${txDate(t.updatedAt)}</p><code class="small">${t.id}</code></div></li>`,
				)}</ul>`
			: html`<div class="card panel">${empty("No templates yet", "Make one with “New template”: start from a built-in card or a blank one.")}</div>`,
	);
	box.removeAttribute("aria-busy");
	for (const a of box.querySelectorAll("[data-thumb]"))
		thumb(
			a,
			`template=${a.dataset.thumb}&title=${encodeURIComponent(a.dataset.title)}`,
			`Preview of ${a.dataset.title}`,
		);
}

function openNew() {
	const start = (value, name, img) =>
		html`<label class="st-start"><input type="radio" name="start" value="${value}" ${value === "" ? "checked" : ""}>${img ? html`<img src="${img}" alt="" loading="lazy">` : html`<span class="st-blank" aria-hidden="true">+</span>`}<span>${name}</span></label>`;
	setHTML(
		$("#st-starts"),
		html`${start("", "Blank card")}${builtins.map((t) => start(t.id, t.name, `/api/templates/${t.id}/preview.png`))}`,
	);
	$("#st-new-name").value = "";
	showError($("#st-new-error"), "");
	openDialog($("#st-new-dialog"));
}

async function create(e) {
	e.preventDefault();
	const from = new FormData(e.target).get("start") || "",
		err = $("#st-new-error");
	const name = $("#st-new-name").value.trim() || (from ? `My ${from} card` : "My card");
	const button = e.submitter || $("#st-new-form [type=submit]");
	button.disabled = true;
	try {
		const design = from ? (await api(`/api/templates/${from}`, { method: "GET" })).design : BLANK;
		if (!design) throw new Error(`The ${from} card can't be copied yet: pick another.`);
		const made = await api("/api/templates", { body: { name, design } });
		$("#st-new-dialog").close();
		go(`/dashboard/templates/${made.id}`);
	} catch (x) {
		showError(err, x.message);
	} finally {
		button.disabled = false;
	}
}

$("#st-new").addEventListener("click", openNew);
$("#st-new-form").addEventListener("submit", create);
$("#st-new-dialog [data-close]").addEventListener("click", () => $("#st-new-dialog").close());
$("#st-list").addEventListener("click", (e) => {
	if (e.target.closest("[data-retry]")) list();
});
$("#signout").addEventListener("click", async () => {
	if (dirty() && !(await ask("Sign out"))) return;
	try {
		await api("/api/auth/logout");
	} catch {
		/* signed out either way */
	}
	dirty(false);
	location.assign("/login?signed_out=1");
});
// Links inside the page stay in the page; every way out asks first when there are unsaved changes.
document.addEventListener("click", (e) => {
	const a = e.target.closest("a[href^='/']");
	if (!a || e.defaultPrevented || e.button || e.metaKey || e.ctrlKey || e.shiftKey) return;
	const path = a.getAttribute("href");
	if (!path.startsWith("/dashboard/templates") && !dirty()) return;
	e.preventDefault();
	go(path);
});
// Back and Forward ask too; staying puts the editor's address back.
addEventListener("popstate", async () => {
	if (dirty() && !(await ask())) {
		history.pushState(null, "", here);
		return;
	}
	go(location.pathname, false);
});
addEventListener("beforeunload", (e) => {
	if (dirty()) {
		e.preventDefault();
		e.returnValue = "";
	}
});
go(location.pathname, false);

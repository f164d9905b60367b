// The studio's editor: layers, the selected layer's properties, fields with sample values, the
// JSON tab, errors beside what their JSON Pointer names, and Save / Versions / Delete.
import { $, $$, api, html, openDialog, setHTML, showError, toast, txDate } from "./lib.js";
import { boxes, initCanvas, schedule, thumb } from "./studio-canvas.js";
import { at, control, flat, label, where } from "./studio-props.js";

const ed = { design: null, samples: {}, errors: [] };
const T = { text: "{{title}}", size: 40, color: "#ffffff" };
const NEW = {
	text: () => ({ type: "text", box: [80, 80, 640, 90], ...T }),
	rect: () => ({ type: "rect", box: [80, 80, 320, 200], fill: "#3b82f6", radius: 12 }),
	image: () => ({ type: "image", box: [880, 80, 240, 240], src: `{{${urlField()}}}`, fit: "cover", radius: 16 }),
	pill: () => ({ type: "pill", box: [80, 80, 240, 56], text: "New", size: 24, color: "#ffffff", fill: "#3b82f6" }),
	rating: () => ({ type: "rating", box: [80, 80, 260, 44], value: 4, color: "#f59e0b" }),
	stack: () => ({
		type: "stack",
		box: [80, 80, 640, 300],
		gap: 16,
		layers: [{ type: "text", ...T }],
	}),
};
const SAMPLE = {
	title: "Ship beautiful link previews in minutes",
	subtitle: "Open Graph cards rendered from your own design",
};
let nav,
	ask,
	wired = false,
	jsonTimer;
const snap = () => JSON.stringify([ed.name, ed.design]);

export function dirty(reset) {
	if (reset === false) {
		ed.saved = snap();
		return false;
	}
	return ed.design !== null && snap() !== ed.saved;
}

export async function openEditor(id, go, confirmBox) {
	nav = go;
	ask = confirmBox;
	if (!wired) wire();
	ed.design = null;
	ed.id = id;
	status("Loading the template…");
	setHTML($("#st-layers"), html`<li class="muted small">Loading…</li>`);
	try {
		load(await api(`/api/templates/${id}`, { method: "GET" }));
	} catch (err) {
		$("#st-editor").classList.add("st-failed");
		banner(
			err.status === 404
				? "This template doesn't exist (or was deleted)."
				: `Couldn't load the template: ${err.message}`,
		);
	}
}

function load(tpl) {
	Object.assign(ed, { tpl, id: tpl.id, name: tpl.name, design: tpl.design, sel: null, errors: [] });
	$("#st-editor").classList.remove("st-failed");
	ed.saved = snap();
	for (const [n, f] of Object.entries(ed.design.fields || {}))
		ed.samples[n] ??=
			SAMPLE[n] ??
			(f.type === "url"
				? ""
				: String(f.default ?? (f.type === "number" ? 4 : f.type === "color" ? "#3b82f6" : n.replace(/_/g, " "))));
	$("#st-name").value = tpl.name;
	$("#st-use").href = `/dashboard?template=${tpl.id}#playground`;
	$("#st-edit-h").textContent = `Edit template ${tpl.name}`;
	banner("");
	refresh();
	schedule(0);
}

const urlField = () => {
	const f = (ed.design.fields ??= {});
	const name = Object.keys(f).find((n) => f[n].type === "url") || "image_url";
	f[name] ??= { type: "url" };
	return name;
};
const status = (text, bad = false) => {
	const s = $("#st-status");
	s.textContent = text;
	s.classList.toggle("err", bad);
};
const banner = (text) => setHTML($("#st-banner"), text ? html`<p class="notice notice-bad">${text}</p>` : html``);
function meta() {
	const t = ed.tpl;
	$("#st-meta").textContent =
		`${t.id} · version ${t.latest_version ?? t.version} · saved ${txDate(t.updated_at)}${dirty() ? " · unsaved changes" : ""}`;
}

// Everything that shows the design, except `from` (the control being typed in keeps its focus).
function refresh(from) {
	if (!ed.design) return;
	layers();
	if (from !== "props") props();
	if (from !== "fields") fields();
	if (from !== "json") $("#st-json-text").value = JSON.stringify(ed.design, null, 2);
	boxes(ed.sel);
	meta();
	showErrors();
}

export function changed(from) {
	refresh(from);
	schedule();
}

function select(path) {
	ed.sel = path;
	refresh();
	const l = path === null ? null : at(ed.design, path);
	$("#st-sel").textContent = `Selected: ${l ? label(l) : "the card"}`;
}

function layers() {
	const errs = ed.errors.map(where);
	const bad = (path) =>
		errs
			.filter((e) => e.field === undefined && e.layer === path)
			.map((e) => html`<p class="err small">${e.key ? `${e.key}: ` : ""}${e.message}</p>`);
	setHTML(
		$("#st-layers"),
		html`<li><button type="button" class="st-pick" data-path="" aria-pressed="${ed.sel === null}">Card <span class="muted small">size and background</span></button>${bad(null)}</li>${flat(ed.design).map(({ path, depth, l }) => html`<li class="d${Math.min(depth, 3)}" id="layer-${path.replace(/\./g, "-")}"><button type="button" class="st-pick" data-path="${path}" aria-pressed="${ed.sel === path}">${label(l)} <span class="muted small">${l?.type ?? "?"}</span></button>${bad(path)}</li>`)}`,
	);
	for (const b of $$(".st-tools [data-op]:not([data-op=add])")) b.disabled = ed.sel === null;
}

function props() {
	const l = ed.sel === null ? null : at(ed.design, ed.sel);
	$("#st-props-of").textContent = l ? label(l) : "The card";
	const ctx = { fields: ed.design.fields || {}, colors: ed.design.colors?.dark || {}, fonts };
	const keys = l
		? [
				"name",
				...(Array.isArray(l.box) ? ["box"] : []),
				...(KEYS[l.type] || "").split(" ").filter(Boolean),
				"if",
				"opacity",
			]
		: ["width", "height", "background"];
	setHTML($("#st-props"), html`${keys.map((k) => control(l || ed.design, k, l?.type, ctx))}`);
}
const KEYS = {
	text: "text font weight size min_size max_lines line_height color align valign uppercase",
	pill: "text font weight size color fill radius",
	rect: "fill radius",
	image: "src fit align radius",
	rating: "value max color empty_color gap",
	stack: "direction gap align justify fill radius",
};

function fields() {
	const f = ed.design.fields || {};
	const row = (n, d) => {
		const of = html`<span class="sr-only"> of ${n}</span>`,
			at = (k, kind = "") => html`data-f="${n}" data-k="${k}" data-kind="${kind}"`;
		return html`<fieldset class="st-field" id="field-${n}"><legend><code>${n}</code></legend><div class="st-field-row">
    <label>Type${of}<select ${at("type")}>${["string", "url", "color", "number"].map((t) => html`<option ${d.type === t ? "selected" : ""}>${t}</option>`)}</select></label>
    <label>Max length${of}<input type="number" min="1" max="1000" ${at("max_length", "num")} value="${d.max_length ?? ""}"></label>
    <label>Default${of}<input ${at("default")} value="${d.default ?? ""}"></label>
    <label>Sample value${of}<input data-s="${n}" value="${ed.samples[n] ?? ""}"></label></div>
    <div class="row between"><label class="switch"><input type="checkbox" ${at("required", "bool")} ${d.required ? "checked" : ""} ${n === "title" ? "disabled" : ""}> Required${of}</label>${n === "title" ? "" : html`<button type="button" class="btn btn-sm" data-drop="${n}">Remove ${n}</button>`}</div>
    <p class="err small" id="fe-${n}" hidden></p></fieldset>`;
	};
	setHTML($("#st-fields"), html`${Object.entries(f).map(([n, d]) => row(n, d))}`);
}

// Server errors (400 INVALID_DESIGN) beside what each JSON Pointer names, and listed on the JSON tab.
function showErrors() {
	const errs = ed.errors.map(where);
	setHTML(
		$("#st-json-errors"),
		html`${errs.map((e) => html`<li><button type="button" class="btn btn-sm" data-goto="${e.layer ?? ""}" data-field="${e.field ?? ""}">${e.field !== undefined ? `Field ${e.field}` : e.layer !== null ? `Layer ${Number(e.layer.split(".").pop()) + 1}: ${label(at(ed.design, e.layer))}` : "Card"}</button> <code>${e.path || "/"}</code> ${e.message}</li>`)}`,
	);
	for (const el of $$("#st-props p.err, #st-fields p.err")) {
		el.hidden = true;
		el.textContent = "";
	}
	for (const el of $$("#st-editor [aria-invalid]")) el.removeAttribute("aria-invalid");
	for (const e of errs) {
		const byId = (id) => document.getElementById(id);
		const el = e.field !== undefined ? byId(`fe-${e.field}`) : e.layer === ed.sel ? byId(`e-${e.key}`) : null;
		if (!el) continue;
		el.hidden = false;
		el.textContent = (el.textContent ? `${el.textContent} ` : "") + e.message;
		$$(`[aria-describedby~="${el.id}"]`).forEach((i) => i.setAttribute("aria-invalid", "true"));
	}
}

function layerOp(op) {
	const d = ed.design;
	if (!Array.isArray(d.layers)) d.layers = [];
	if (op === "add") {
		d.layers.push(NEW[$("#st-add-type").value]());
		ed.sel = String(d.layers.length - 1);
	} else if (ed.sel !== null) {
		const parts = ed.sel.split("."),
			i = Number(parts.pop()),
			pre = parts.length ? `${parts.join(".")}.` : "";
		const list = parts.length ? at(d, parts.join(".")).layers : d.layers;
		const j = op === "up" ? i - 1 : op === "down" ? i + 1 : i;
		if (op === "del") {
			list.splice(i, 1);
			ed.sel = parts.length ? parts.join(".") : null;
		} else if (op === "dup") {
			list.splice(i + 1, 0, structuredClone(list[i]));
			ed.sel = pre + (i + 1);
		} else if (j >= 0 && j < list.length) {
			[list[i], list[j]] = [list[j], list[i]];
			ed.sel = pre + j;
		}
	}
	changed();
	$(`.st-pick[data-path="${ed.sel ?? ""}"]`)?.focus();
	if (op === "del") toast("Layer deleted.");
}

function setIn(o, keys, v) {
	const last = keys.pop();
	for (const k of keys) o = o[k];
	if (Array.isArray(o)) o[last] = v ?? 0;
	else if (v === undefined) delete o[last];
	else o[last] = v;
}
function valueOf(el) {
	const v = el.dataset.kind === "bool" ? el.checked || undefined : el.value.trim();
	if (v === "" || v === undefined) return undefined;
	if (el.dataset.kind === "num" || (el.dataset.k === "value" && /^\d+(\.\d+)?$/.test(v))) return Number(v);
	return v;
}

async function save(button) {
	button.disabled = true;
	try {
		const t = await api(`/api/templates/${ed.id}`, {
			method: "PUT",
			body: { name: ed.name.trim() || ed.tpl.name, design: ed.design },
		});
		Object.assign(ed, { tpl: t, errors: [] });
		ed.saved = snap();
		refresh();
		toast(`Saved as version ${t.version}.`);
	} catch (err) {
		if (err.code === "INVALID_DESIGN") {
			ed.errors = err.body.errors;
			refresh();
		}
		status(`Not saved: ${err.message}`, true);
	} finally {
		button.disabled = false;
	}
}

async function versions() {
	const list = $("#st-version-list"),
		latest = ed.tpl.latest_version ?? ed.tpl.version;
	setHTML(
		list,
		html`${[...ed.tpl.versions].reverse().map(
			(v) => html`<li><span class="st-vthumb" data-v="${v.version}"><span class="muted small">Loading…</span></span>
    <div><b>Version ${v.version}</b>${v.version === latest ? " (latest)" : ""}<br><span class="small muted">${txDate(v.created_at)}</span></div>
    ${v.version === latest ? "" : html`<button class="btn btn-sm" type="button" data-restore="${v.version}">Restore version ${v.version}</button>`}</li>`,
		)}`,
	);
	showError($("#st-versions-error"), "");
	openDialog($("#st-versions-dialog"));
	for (const el of $$("[data-v]", list))
		thumb(el, `template=${ed.id}@${el.dataset.v}&title=${encodeURIComponent(ed.tpl.name)}`, `Version ${el.dataset.v}`);
}

async function restore(n, button) {
	if (
		dirty() &&
		!(await ask(
			"Restore and drop your changes?",
			"Your unsaved changes are lost when an older version is restored.",
			"Restore",
		))
	)
		return;
	button.disabled = true;
	try {
		const old = await api(`/api/templates/${ed.id}/versions/${n}`, { method: "GET" });
		const t = await api(`/api/templates/${ed.id}`, { method: "PUT", body: { design: old.design } });
		$("#st-versions-dialog").close();
		load(t);
		toast(`Version ${n} restored as version ${t.version}.`);
	} catch (err) {
		showError($("#st-versions-error"), err.message);
		button.disabled = false;
	}
}

async function remove() {
	if (
		!(await ask(
			`Delete “${ed.tpl.name}”?`,
			`Every version goes with it, and cards that use template=${ed.id} stop rendering. This can't be undone.`,
			"Delete template",
		))
	)
		return;
	try {
		await api(`/api/templates/${ed.id}`, { method: "DELETE" });
		ed.design = null;
		toast(`Deleted “${ed.tpl.name}”.`);
		nav("/dashboard/templates");
	} catch (err) {
		banner(`Couldn't delete it: ${err.message}`);
	}
}

function tab(json) {
	for (const [b, p, on] of [
		["#tab-design", "#st-design", !json],
		["#tab-json", "#st-json", json],
	]) {
		$(b).setAttribute("aria-selected", on);
		$(b).tabIndex = on ? 0 : -1;
		$(p).hidden = !on;
	}
	if (json) $("#st-json-text").value = JSON.stringify(ed.design, null, 2);
	else refresh();
}

function fromJson() {
	let d;
	try {
		d = JSON.parse($("#st-json-text").value);
	} catch (err) {
		setHTML($("#st-json-errors"), html`<li class="err">Not valid JSON: ${err.message}</li>`);
		return;
	}
	ed.design = d && typeof d === "object" && !Array.isArray(d) ? d : { layers: [] };
	if (ed.sel !== null && !at(ed.design, ed.sel)) ed.sel = null;
	changed("json");
}

let fonts = [{ value: "Inter", label: "Inter (bundled)" }];
async function loadFonts() {
	try {
		const body = await api("/api/fonts", { method: "GET" });
		const list = (body.fonts || []).map((f) =>
			/^font_/.test(f.id) ? { value: f.id, label: `${f.family} (uploaded)` } : { value: f.family, label: f.family },
		);
		if (list.length) fonts = list;
	} catch {
		/* the bundled family only */
	}
}

function wire() {
	wired = true;
	loadFonts();
	initCanvas({
		design: () => ed.design,
		params: () => Object.fromEntries(Object.entries(ed.samples).filter(([n, v]) => v && ed.design.fields?.[n])),
		path: (p) => at(ed.design, p),
		selected: () => ed.sel,
		select,
		changed,
		status,
		errors: (list) => {
			ed.errors = list;
			layers();
			if (!$("#st-design").hidden) props();
			fields();
			showErrors();
		},
	});
	$("#st-layers").addEventListener("click", (e) => {
		const b = e.target.closest("[data-path]");
		if (b) select(b.dataset.path || null);
	});
	$$(".st-tools [data-op]").forEach((b) => b.addEventListener("click", () => layerOp(b.dataset.op)));
	$("#st-props").addEventListener("input", (e) => {
		let el = e.target;
		const pick = el.previousElementSibling;
		if (el.dataset.pick) {
			el = $(`#${el.dataset.pick}`);
			el.value = e.target.value;
		} else if (pick?.dataset.pick && /^#[\da-f]{6}$/i.test(el.value)) pick.value = el.value;
		if (!el.dataset.k) return;
		setIn(ed.sel === null ? ed.design : at(ed.design, ed.sel), el.dataset.k.split("."), valueOf(el));
		changed("props");
	});
	$("#st-fields").addEventListener("input", (e) => {
		const el = e.target;
		if (el.dataset.s) {
			ed.samples[el.dataset.s] = el.value;
			schedule();
			return;
		}
		if (el.dataset.f) {
			setIn(ed.design.fields[el.dataset.f], [el.dataset.k], valueOf(el));
			changed("fields");
		}
	});
	$("#st-fields").addEventListener("click", (e) => {
		const n = e.target.closest("[data-drop]")?.dataset.drop;
		if (n) {
			delete ed.design.fields[n];
			changed();
		}
	});
	$("#st-add-field").addEventListener("submit", (e) => {
		e.preventDefault();
		const input = $("#st-field-name"),
			n = input.value.trim();
		if (!/^[a-z][a-z0-9_]{0,39}$/.test(n)) {
			toast("A field name is lowercase letters, digits and _, starting with a letter.");
			return;
		}
		(ed.design.fields ??= {})[n] ??= { type: "string", max_length: 200 };
		ed.samples[n] ??= n.replace(/_/g, " ");
		input.value = "";
		changed();
	});
	$("#st-json-text").addEventListener("input", () => {
		clearTimeout(jsonTimer);
		jsonTimer = setTimeout(fromJson, 500);
	});
	$("#st-json-errors").addEventListener("click", (e) => {
		const b = e.target.closest("[data-goto]");
		if (!b) return;
		tab(false);
		if (b.dataset.field) {
			$(`#field-${b.dataset.field} select`)?.focus();
			return;
		}
		select(b.dataset.goto || null);
		$("#st-props [aria-invalid=true]")?.focus();
	});
	$("#tab-design").addEventListener("click", () => tab(false));
	$("#tab-json").addEventListener("click", () => tab(true));
	$(".st-side [role=tablist]").addEventListener("keydown", (e) => {
		if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
		const json = $("#tab-json").getAttribute("aria-selected") !== "true";
		tab(json);
		$(json ? "#tab-json" : "#tab-design").focus();
	});
	$("#st-name").addEventListener("input", (e) => {
		ed.name = e.target.value;
		meta();
	});
	$("#st-save").addEventListener("click", (e) => save(e.currentTarget));
	$("#st-versions").addEventListener("click", versions);
	$("#st-version-list").addEventListener("click", (e) => {
		const b = e.target.closest("[data-restore]");
		if (b) restore(b.dataset.restore, b);
	});
	$("#st-delete").addEventListener("click", remove);
}

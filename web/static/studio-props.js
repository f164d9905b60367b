// The studio's design helpers: layer paths ("1.0" is layer 0 of stack 1), labels, where a JSON
// Pointer points, and the form control of each property.
import { html } from "./lib.js";

export function at(design, path) {
	let list = design?.layers,
		layer;
	for (const i of String(path).split(".")) {
		layer = Array.isArray(list) ? list[Number(i)] : undefined;
		list = layer?.layers;
	}
	return layer;
}

export function flat(design, list = design?.layers, pre = "", depth = 0, out = []) {
	(Array.isArray(list) ? list : []).forEach((l, i) => {
		out.push({ path: pre + i, depth, l });
		if (Array.isArray(l?.layers)) flat(design, l.layers, `${pre}${i}.`, depth + 1, out);
	});
	return out;
}

const KIND = { text: "Text", rect: "Rectangle", image: "Image", pill: "Pill", rating: "Rating", stack: "Stack" };
export const label = (l) =>
	(l?.name || `${KIND[l?.type] || "Layer"}${typeof l?.text === "string" ? `: ${l.text.slice(0, 30)}` : ""}`) +
	(l?.if ? ` (if ${l.if})` : l?.unless ? ` (unless ${l.unless})` : "");

// "/layers/1/layers/0/color" → {layer: "1.0", key: "color"}; "/fields/title/type" → {field: "title"}.
export function where({ path, message }) {
	const s = String(path || "")
		.split("/")
		.slice(1)
		.map((x) => x.replace(/~1/g, "/").replace(/~0/g, "~"));
	if (s[0] === "fields" && s.length > 1) return { path, message, field: s[1], key: s[2] || "", layer: null };
	const at = [];
	while (s[0] === "layers" && /^\d+$/.test(s[1] ?? "")) {
		at.push(s[1]);
		s.splice(0, 2);
	}
	return { path, message, layer: at.length ? at.join(".") : null, key: s[0] || "" };
}

const P = {
	name: ["Name"],
	text: ["Text", "area"],
	font: ["Font", "font"],
	weight: ["Weight", [100, 200, 300, 400, 500, 600, 700, 800, 900]],
	size: ["Size", "num"],
	min_size: ["Min size", "num"],
	max_lines: ["Max lines", "num"],
	line_height: ["Line height", "num"],
	color: ["Colour", "color"],
	empty_color: ["Empty colour", "color"],
	fill: ["Fill", "color"],
	background: ["Background", "color"],
	radius: ["Corner radius", "num"],
	src: ["Image field", "url"],
	fit: ["Fit", ["cover", "contain"]],
	valign: ["Vertical alignment", ["top", "middle", "bottom"]],
	value: ["Value"],
	max: ["Stars", "num"],
	gap: ["Gap", "num"],
	direction: ["Direction", ["column", "row", "overlay"]],
	justify: ["Justify", ["start", "center", "end"]],
	uppercase: ["Uppercase", "bool"],
	opacity: ["Opacity (0–1)", "num"],
	if: ["Only when this field is set", "if"],
	align: ["Alignment"],
	width: ["Width", "num"],
	height: ["Height", "num"],
};
const ALIGN = { image: ["left", "center", "right"], stack: ["start", "center", "end"] };
const TEXT_ALIGN = ["start", "left", "center", "right", "end"];

// A hex colour for the picker: the value itself, a $token's dark-theme colour, or a field's default.
function hex(v, ctx) {
	const s = typeof v === "string" ? v : "";
	const t = s.startsWith("$") ? ctx.colors[s.slice(1)] : s.startsWith("{{") ? ctx.fields[s.slice(2, -2)]?.default : s;
	const m = /^#([0-9a-f]{3}|[0-9a-f]{6})/i.exec(t || "");
	if (!m) return "#000000";
	return m[1].length === 3 ? `#${[...m[1]].map((c) => c + c).join("")}` : `#${m[1]}`;
}

function colour(k, lab, v, ctx, err) {
	const id = `p-${k.replace(/\./g, "-")}`;
	return html`<div class="field"><label for="${id}">${lab}</label><div class="row st-colour"><input type="color" data-pick="${id}" value="${hex(v, ctx)}" aria-label="Pick ${lab.toLowerCase()}"><input id="${id}" data-k="${k}" value="${v ?? ""}" placeholder="#rrggbb, $token or {{field}}" aria-describedby="${err}" spellcheck="false"></div></div>`;
}

export function control(o, k, type, ctx) {
	const [lab, kind = "text"] = P[k] || [k],
		v = o[k],
		id = `p-${k}`,
		err = `e-${k}`;
	const note = html`<p class="err small" id="${err}" hidden></p>`;
	if (k === "box") {
		return html`<fieldset class="st-box4"><legend>Box</legend>${["X", "Y", "Width", "Height"].map((n, i) => html`<label>${n}<input type="number" step="1" data-k="box.${i}" data-kind="num" value="${v?.[i] ?? 0}" aria-describedby="${err}"></label>`)}${note}</fieldset>`;
	}
	if (kind === "color" && v && typeof v === "object" && v.gradient) {
		const g = v.gradient;
		return html`<fieldset class="st-grad"><legend>${lab} (gradient)</legend><div class="field"><label for="${id}-angle">Angle</label><input id="${id}-angle" type="number" data-k="${k}.gradient.angle" data-kind="num" value="${g.angle ?? 180}" aria-describedby="${err}"></div>${(g.stops || []).map((s, i) => colour(`${k}.gradient.stops.${i}`, `Stop ${i + 1}`, s, ctx, err))}${note}</fieldset>`;
	}
	if (kind === "color") return html`${colour(k, lab, v, ctx, err)}${note}`;
	if (kind === "bool")
		return html`<div class="field"><label class="switch"><input type="checkbox" data-k="${k}" data-kind="bool" ${v ? "checked" : ""} aria-describedby="${err}"> ${lab}</label>${note}</div>`;
	let input;
	const attrs = html`id="${id}" data-k="${k}" aria-describedby="${err}"`;
	const options = (list, names = list) =>
		html`<select ${attrs} ${kind === "num" ? "data-kind=num" : ""}><option value="">(default)</option>${list.map((x, i) => html`<option value="${x}" ${String(v) === String(x) ? "selected" : ""}>${names[i]}</option>`)}${v !== undefined && !list.map(String).includes(String(v)) ? html`<option selected value="${v}">${v}</option>` : ""}</select>`;
	if (k === "align") input = options(ALIGN[type] || TEXT_ALIGN);
	else if (Array.isArray(kind))
		input =
			k === "weight"
				? html`<select ${attrs} data-kind="num"><option value="">(default)</option>${kind.map((x) => html`<option ${Number(v) === x ? "selected" : ""}>${x}</option>`)}</select>`
				: options(kind);
	else if (kind === "font")
		input = options(
			ctx.fonts.map((f) => f.value),
			ctx.fonts.map((f) => f.label),
		);
	else if (kind === "url" || kind === "if") {
		const names = Object.keys(ctx.fields).filter((n) => kind === "if" || ctx.fields[n].type === "url");
		input = options(kind === "url" ? names.map((n) => `{{${n}}}`) : names, names);
	} else if (kind === "area") input = html`<textarea ${attrs} rows="2">${v ?? ""}</textarea>`;
	else
		input = html`<input ${attrs} ${kind === "num" ? html`type="number" step="any" data-kind="num"` : ""} value="${v ?? ""}">`;
	return html`<div class="field"><label for="${id}">${lab}</label>${input}${note}</div>`;
}

// The studio's preview: the watermarked draft of the unsaved design (POST /api/dashboard/preview,
// debounced, the playground's budget), layer boxes over it to click, drag and resize, arrow-key
// nudges, and the list's thumbnails (one draft at a time, after the live preview).
import { $, AUTO_HEADERS, html, sessionEnded, setHTML } from "./lib.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jobs = [];
let draining = false,
	hooks,
	timer,
	ctl,
	url;

// A thumbnail: the draft of a saved version, loaded one at a time so a long list stays within
// the previews' 4 a second (each still counts toward the 300 an hour).
export function thumb(el, query, alt) {
	jobs.push({ el, query, alt });
	if (!draining) drain();
}
async function drain() {
	draining = true;
	while (jobs.length) {
		const job = jobs[0];
		if (!job.el.isConnected) {
			jobs.shift();
			continue;
		}
		const res = await fetch(`/api/dashboard/preview?${job.query}`, {
			credentials: "same-origin",
			headers: AUTO_HEADERS,
		}).catch(() => null);
		const wait = res?.headers.get("Retry-After") || 1;
		if (res?.status === 429 && wait < 10) {
			await sleep(wait * 1e3);
			continue;
		}
		jobs.shift();
		if (res?.ok) setHTML(job.el, html`<img src="${URL.createObjectURL(await res.blob())}" alt="${job.alt}">`);
		else
			setHTML(
				job.el,
				html`<span class="muted small">${res?.status === 429 ? "Preview limit reached" : "No preview"}</span>`,
			);
		await sleep(260);
	}
	draining = false;
}

// hooks: {design(), params(), path(p) -> layer, select(p), changed(), errors(list), status(text)}
export function initCanvas(h) {
	hooks = h;
	const canvas = $("#st-canvas"),
		overlay = $("#st-overlay");
	overlay.addEventListener("pointerdown", (e) => {
		const box = e.target.closest(".st-box");
		if (!box) return;
		e.preventDefault();
		canvas.focus();
		const path = box.dataset.path,
			layer = hooks.path(path),
			start = [...layer.box];
		hooks.select(path);
		const resize = e.target.classList.contains("st-handle"),
			scale = hooks.design().width / canvas.clientWidth || 1;
		const x0 = e.clientX,
			y0 = e.clientY;
		let moved = false;
		const move = (m) => {
			const dx = Math.round((m.clientX - x0) * scale),
				dy = Math.round((m.clientY - y0) * scale);
			if (!dx && !dy && !moved) return;
			moved = true;
			layer.box = resize
				? [start[0], start[1], Math.max(1, start[2] + dx), Math.max(1, start[3] + dy)]
				: [start[0] + dx, start[1] + dy, start[2], start[3]];
			place($(`.st-box[data-path="${path}"]`, overlay), layer.box);
		};
		const up = () => {
			removeEventListener("pointermove", move);
			removeEventListener("pointerup", up);
			if (moved) hooks.changed();
		};
		addEventListener("pointermove", move);
		addEventListener("pointerup", up);
	});
	canvas.addEventListener("keydown", (e) => {
		const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
		const sel = hooks.selected(),
			layer = sel && !sel.includes(".") && hooks.path(sel);
		if (!d || !layer?.box) return;
		e.preventDefault();
		const step = e.shiftKey ? 10 : 1;
		layer.box = [layer.box[0] + d[0] * step, layer.box[1] + d[1] * step, layer.box[2], layer.box[3]];
		hooks.changed();
	});
}

function place(el, [x, y, w, h]) {
	const d = hooks.design();
	Object.assign(el.style, {
		left: `${(x / d.width) * 100}%`,
		top: `${(y / d.height) * 100}%`,
		width: `${(w / d.width) * 100}%`,
		height: `${(h / d.height) * 100}%`,
	});
}

// The boxes of the top-level layers (a stack's own layers move with it), the selected one on top.
export function boxes(selected) {
	const d = hooks.design(),
		overlay = $("#st-overlay"),
		canvas = $("#st-canvas");
	if (!(d?.width > 0 && d?.height > 0)) return;
	canvas.style.aspectRatio = `${d.width} / ${d.height}`;
	overlay.replaceChildren();
	const top = selected?.split(".")[0];
	(Array.isArray(d.layers) ? d.layers : []).forEach((layer, i) => {
		if (!Array.isArray(layer?.box) || layer.box.length !== 4) return;
		const el = document.createElement("div");
		el.className = `st-box${String(i) === top ? " on" : ""}${String(i) === selected ? "" : " parent"}`;
		el.dataset.path = String(i);
		if (String(i) === selected) el.append(Object.assign(document.createElement("span"), { className: "st-handle" }));
		place(el, layer.box);
		overlay.append(el);
	});
}

export function schedule(ms = 400) {
	clearTimeout(timer);
	timer = setTimeout(draw, ms);
}

async function draw() {
	ctl?.abort();
	ctl = new AbortController();
	const { signal } = ctl,
		canvas = $("#st-canvas");
	hooks.status("Rendering…");
	try {
		const res = await fetch("/api/dashboard/preview", {
			method: "POST",
			credentials: "same-origin",
			signal,
			headers: { "Content-Type": "application/json", Accept: "application/json" },
			body: JSON.stringify({ design: hooks.design(), params: hooks.params() }),
		});
		if (res.ok) {
			const blob = await res.blob();
			if (url) URL.revokeObjectURL(url);
			url = URL.createObjectURL(blob);
			const img = $("#st-img");
			img.src = url;
			img.alt = `Preview of the card: ${hooks.params().title || ""}`;
			canvas.classList.remove("stale");
			hooks.errors([]);
			const left = res.headers.get("X-RateLimit-Remaining");
			hooks.status(
				`Preview up to date (a free draft${left === null ? "" : `, ${left} of ${res.headers.get("X-RateLimit-Limit")} left this hour`}).`,
			);
			return;
		}
		const err = await res.json().catch(() => ({}));
		canvas.classList.add("stale");
		if (res.status === 401) {
			sessionEnded();
			return;
		}
		if (res.status === 429) {
			const wait = Math.max(1, Number(res.headers.get("Retry-After")) || 1);
			hooks.status(
				wait > 5
					? `${err.message} The next preview is in ${Math.ceil(wait / 60)} min.`
					: "Catching up with your edits…",
			);
			schedule(wait * 1000);
			return;
		}
		hooks.errors(err.errors || []);
		hooks.status(
			err.code === "INVALID_DESIGN"
				? `The design has ${err.errors.length} problem${err.errors.length === 1 ? "" : "s"}: see the marked layers and properties.`
				: err.message || `Preview failed (${res.status}).`,
			true,
		);
	} catch (x) {
		if (x.name !== "AbortError") {
			canvas.classList.add("stale");
			hooks.status("Can't reach the server: the preview will update on your next change.", true);
		}
	}
}

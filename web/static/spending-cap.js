// The spending cap beside the overage switch (docs/metering.md#spending-cap): the cap, how much
// of it this month's overage used, and an inline form to set or clear it.
import { $, ApiError, gql, html, price, raw, setHTML, showError, toast } from "./lib.js";

const AMOUNT = /^\d{1,7}(\.\d{1,6})?$/; // what the API takes: 0 to 1,000,000, 6 places at most

// The row of the account panel's list: the cap and its Edit button.
export function capRow(me) {
	const cap = me.overageCap,
		free = me.plan.id === "FREE";
	return html`<dt>Spending cap</dt><dd id="cap-cell"><span>${cap === null ? "No cap" : `${price(cap)} a month`}</span>
    <button class="btn btn-sm" type="button" data-action="edit-cap" aria-label="Edit spending cap" ${raw(free ? "disabled" : "")}>Edit</button></dd>`;
}

// Under the list: this month's overage against the cap (a bar), or alone without a cap.
export function capMeter(me, usage) {
	if (me.plan.id === "FREE") return "";
	const cap = me.overageCap,
		spend = usage ? Number(usage.overageSpend) : null;
	const spent = spend === null ? "" : `${price(spend)} of overage this month`;
	if (cap === null)
		return html`<p class="hint" id="cap-hint">${spent ? `${spent}. ` : ""}Set a cap to stop overage at a monthly amount.</p>`;
	const pct = Number(cap) > 0 ? Math.round(((spend || 0) * 100) / Number(cap)) : 100;
	const cls = pct >= 100 ? "over" : pct >= 80 ? "hot" : "";
	return html`${spend === null ? "" : html`<div class="progress ${cls}" role="progressbar" aria-label="Spending cap used" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.min(pct, 100)}" aria-valuetext="${pct}% of the cap used"><span data-w="${Math.min(pct, 100)}"></span></div>`}
    <p class="hint" id="cap-hint">${spent ? `${price(spend)} of ${price(cap)} used this month (${pct}%). ` : ""}Past the cap, images answer QUOTA_EXCEEDED and signed URLs show the fallback card until the 1st.</p>`;
}

// Edit in place; `done(me)` takes the account as saved (or unchanged, on Cancel).
export function editCap(me, fields, done) {
	const cap = me.overageCap;
	setHTML(
		$("#cap-cell"),
		html`<form class="inline-form" id="cap-form"><label class="sr-only" for="cap-input">Spending cap in dollars a month</label>
    <input id="cap-input" name="cap" inputmode="decimal" autocomplete="off" placeholder="25.00" value="${cap === null ? "" : String(Number(cap))}">
    <button class="btn btn-sm btn-primary" type="submit">Save</button><button class="btn btn-sm" type="button" id="cap-clear">No cap</button><button class="btn btn-sm" type="button" id="cap-cancel">Cancel</button>
    <p class="form-error" id="cap-error" role="alert" hidden></p></form>`,
	);
	const input = $("#cap-input"),
		err = $("#cap-error");
	input.focus();
	const save = async (value) => {
		const { data, errors } = await gql(`mutation($c: Decimal) { updateAccount(overageCap: $c) { ${fields} } }`, {
			c: value,
		});
		if (errors.length) throw new ApiError(errors[0].message, errors[0].extensions?.code);
		done(data.updateAccount);
		toast(
			value === null
				? "Spending cap removed: overage runs while the balance lasts."
				: `Spending cap saved: overage stops at ${price(value)} a month.`,
		);
	};
	const attempt = (value) =>
		save(value).catch((x) => {
			if (x.code !== "UNAUTHENTICATED") showError(err, x.message);
		});
	$("#cap-form").addEventListener("submit", (e) => {
		e.preventDefault();
		const value = input.value.trim().replace(/^\$/, "").replace(/,/g, "");
		if (!AMOUNT.test(value) || Number(value) > 1_000_000)
			showError(err, "Enter dollars from 0 to 1,000,000, such as 25 or 12.50.");
		else attempt(value);
	});
	$("#cap-clear").addEventListener("click", () => attempt(null));
	$("#cap-cancel").addEventListener("click", () => done(me));
}

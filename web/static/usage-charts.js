// The Usage History panel (30-day chart, month-end forecast) and the Monthly Usage Trend.
import { barChart } from "./charts.js";
import { WEEKDAYS, cash, dayOf, empty, html, money, monthLabel, num, raw, shortDate } from "./lib.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function toggle(name, current) {
	return html`<span class="row" role="group" aria-label="Show">${["images", "spend"].map(
		(v) => html`
    <button class="btn btn-sm" type="button" data-toggle="${name}" data-value="${v}" aria-pressed="${v === current}">${v === "images" ? "Images" : "Spend"}</button>`,
	)}</span>`;
}

const any = (list, key) => list.some((d) => Number(d[key]) > 0);
const dollars = (v) => (v >= 100 ? `$${Math.round(v)}` : cash(v));

// A new account: no chart of empty bars, but what will fill it and how to start.
const noUsage = (period) => html`${empty(`No usage in the last ${period}`, "")}
  <p class="small muted">Each image you render adds to this chart. Try the <a href="#playground" data-action="test">Test API playground</a> (previews are free), then call <code>/api/generate</code> with your API key.</p>`;

export function historyPanel(u, plans, me, mode, width) {
	if (!any(u.daily, "images") && !any(u.daily, "spend"))
		return html`${noUsage("30 days")}${forecastStrip(u, plans, me)}`;
	const spend = mode === "spend";
	const days = u.daily.map((d) => {
		const day = dayOf(d.date),
			value = spend ? Number(d.spend) : d.images;
		const weekday = WEEKDAYS[day.getUTCDay()];
		return {
			top: day.getUTCDate(),
			bottom: weekday,
			row: `${weekday} ${day.getUTCDate()}`,
			value,
			tip: `${shortDate(day)}: ${spend ? cash(d.spend) : num(d.images)}`,
		};
	});
	const total = days.reduce((s, d) => s + d.value, 0);
	const peak = days.reduce((a, d) => (d.value > a.value ? d : a), days[0]);
	const fmt = (v) => (spend ? cash(v) : num(v));
	const label = total
		? `${spend ? "Spend" : "Images"} per day, last 30 days: ${fmt(total)} in total, peak ${peak.tip}`
		: `No ${spend ? "spend" : "images"} in the last 30 days`;
	return html`
    <div class="row between"><span class="legend"><span><i aria-hidden="true"></i>${spend ? "Spend" : "Images"}</span><span><i class="z" aria-hidden="true"></i>No usage</span></span>${toggle("daily", mode)}</div>
    <div class="chart-box">${raw(barChart(days, { width, label, minSlot: 32, valueText: spend ? dollars : undefined }))}</div>
    ${total ? "" : html`<p class="empty">No ${spend ? "spend" : "images"} in the last 30 days.</p>`}
    ${forecastStrip(u, plans, me)}`;
}

// Month-end forecast from the month so far, and the plan that would fit it.
export function forecast(u, plans, me, now = new Date()) {
	const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
		end = Date.parse(u.resetDate);
	const frac = (now - start) / (end - start);
	const projected = Math.round(u.used / Math.max(frac, 1 / 720));
	const cost = (plan, quota = plan.monthlyQuota) => {
		const over = Math.max(0, projected - quota);
		if (!over) return Number(plan.priceMonthly);
		return plan.overagePrice && me.overageEnabled
			? Number(plan.priceMonthly) + over * Number(plan.overagePrice)
			: Infinity;
	};
	const current = me.plan.id;
	const mine = cost(me.plan, u.quota);
	let best = null;
	for (const p of plans) {
		const c = p.id === current ? mine : cost(p);
		if (c < Infinity && (!best || c < best.cost)) best = { plan: p, cost: c };
	}
	return { projected, frac, current: mine, best, quota: u.quota, plan: me.plan };
}

function forecastStrip(u, plans, me) {
	const f = forecast(u, plans, me);
	if (!u.used)
		return html`<div class="forecast"><span class="muted">Month-end forecast appears once this month has usage.</span></div>`;
	const pct = Math.round((f.projected / f.quota) * 100);
	let hint;
	if (!f.best) hint = "Even the largest plan is short of this pace: contact us about a custom quota.";
	else if (f.best.plan.id === f.plan.id) {
		const over = Math.max(0, f.projected - f.quota);
		hint = over
			? `${f.plan.name} still fits best: about ${num(over)} overage images, ≈ ${money(f.current - Number(f.plan.priceMonthly))} from credits.`
			: `${f.plan.name} fits this pace.`;
	} else if (f.current === Infinity) {
		hint = `At this pace you'd hit the ${f.plan.name} quota before the month ends; ${f.best.plan.name} (${money(f.best.plan.priceMonthly, 0)}/mo, ${num(f.best.plan.monthlyQuota)} images) would fit.`;
	} else {
		hint = `${f.best.plan.name} (${money(f.best.plan.priceMonthly, 0)}/mo) would fit this pace and save ≈ ${money(f.current - f.best.cost)} a month.`;
	}
	return html`<div class="forecast" id="forecast"><span>Month-end forecast: <b>~${num(f.projected)} images</b> (${pct}% of quota)</span><span class="muted">${hint}</span></div>`;
}

export function trendPanel(u, mode, width) {
	if (!any(u.monthly, "images") && !any(u.monthly, "spend"))
		return empty("No usage in the last 12 months", "One bar a month appears here from your first month of renders.");
	const spend = mode === "spend";
	const bars = u.monthly.map((m, i) => {
		const [y, mm] = m.month.split("-").map(Number),
			value = spend ? Number(m.spend) : m.images;
		const under = i === 0 || mm === 1 ? String(y) : undefined; // the year where it starts or turns
		return {
			bottom: MONTHS[mm - 1],
			under,
			row: monthLabel(m.month),
			value,
			tip: `${monthLabel(m.month)}: ${spend ? cash(m.spend) : num(m.images)}`,
		};
	});
	const total = bars.reduce((s, b) => s + b.value, 0);
	const label = total
		? `${spend ? "Spend" : "Images"} per month, last 12 months: ${bars.map((b) => b.tip).join(", ")}`
		: `No ${spend ? "spend" : "images"} in the last 12 months`;
	return html`<div class="row between"><span class="muted small">${spend ? "Spend" : "Images"} per month</span>${toggle("monthly", mode)}</div>
    <div class="chart-box">${raw(barChart(bars, { width, label, cls: "trend", minSlot: 40, rowLabel: 72, valueText: spend ? dollars : undefined }))}</div>
    ${total ? "" : html`<p class="empty">No ${spend ? "spend" : "images"} in the last 12 months.</p>`}`;
}

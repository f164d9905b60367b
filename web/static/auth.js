// Sign-in, sign-up and password reset forms (docs/accounts.md endpoints).
import { $, api, showError } from "./lib.js";

const params = new URLSearchParams(location.search);
const go = (form) => location.assign(form.dataset.next || "/dashboard");

function bind(form, submit) {
	const error = $("#form-error", form) || $(".form-error", form);
	form.addEventListener("submit", async (e) => {
		e.preventDefault();
		showError(error, "");
		const button = $("button[type=submit]", form);
		button.disabled = true;
		try {
			await submit(Object.fromEntries(new FormData(form)));
		} catch (err) {
			showError(error, err.message);
			$("input", form)?.focus();
		} finally {
			button.disabled = false;
		}
	});
}

const login = $("#login-form");
if (login) {
	const notice = $("#notice");
	const kept = sessionStorage.getItem("ogapi.email");
	if (params.get("expired")) {
		notice.textContent = "Your session ended after a period of inactivity. Sign in again to continue.";
		notice.hidden = false;
	} else if (params.get("signed_out")) {
		notice.textContent = "You're signed out.";
		notice.hidden = false;
	} else if (params.get("reset")) {
		notice.textContent = "Your password was changed. Sign in with the new one.";
		notice.hidden = false;
	}
	if (kept) {
		$("#email").value = kept;
		$("#password").focus();
	}
	bind(login, async ({ email, password }) => {
		if (!email || !password) throw new Error("Enter your email and password.");
		await api("/api/auth/login", { body: { email, password } });
		sessionStorage.removeItem("ogapi.email");
		go(login);
	});
}

const signup = $("#signup-form");
if (signup) {
	bind(signup, async ({ email, password, domain }) => {
		if (!email) throw new Error("Enter your email address.");
		if ((password || "").length < 10) throw new Error("Choose a password of at least 10 characters.");
		await api("/api/auth/signup", { body: { email, password, ...(domain ? { domain } : {}) } });
		go(signup);
	});
}

const request = $("#reset-request-form");
if (request) {
	const token = params.get("token");
	if (token) {
		// Keep the token out of the address bar, history and any later Referer.
		history.replaceState(null, "", "/reset-password");
		$("#reset-request").hidden = true;
		$("#reset-confirm").hidden = false;
		$("#new-password").focus();
		bind($("#reset-confirm-form"), async ({ password }) => {
			if ((password || "").length < 10) throw new Error("Choose a password of at least 10 characters.");
			try {
				await api("/api/auth/password-reset/confirm", { body: { token, password } });
			} catch (err) {
				if (err.code === "INVALID_TOKEN")
					throw new Error("This reset link has expired or was already used. Request a new one below.");
				throw err;
			}
			location.assign("/login?reset=1");
		});
	} else {
		$("#email").focus();
	}
	bind(request, async ({ email }) => {
		if (!email) throw new Error("Enter your email address.");
		const res = await api("/api/auth/password-reset", { body: { email } });
		const sent = $("#reset-sent");
		sent.textContent = res?.message || "If an account exists for that email, a reset link is on its way.";
		sent.hidden = false;
		request.hidden = true;
	});
}

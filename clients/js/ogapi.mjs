// A client of the OG Image API (docs/clients.md): one ES module, no dependencies, Node 18 or
// newer (global fetch; node:crypto and node:zlib). Copy it into your project.
//
//   import { OgImageClient, OgApiError } from "./ogapi.mjs";
//   const client = new OgImageClient({ apiKey: process.env.OGAPI_KEY, baseUrl: "https://og.example.com" });
//   const png = await client.generate({ title: "Hello, world", template: "blog" });
//   const url = await client.signUrl({ title: "Hello, world" });    // offline when `kid` is known
//   const results = await client.batch([{ title: "One" }, { title: "Two", format: "jpeg" }]);
//   const usage = await client.getUsage();
//
// Every error of the service is an OgApiError with `code` (QUOTA_EXCEEDED, ...), HTTP `status`
// and, for RATE_LIMITED, `retryAfter` seconds. A request refused with RATE_LIMITED is retried
// after Retry-After, at most `maxRetries` times and never waiting more than `maxWait` seconds
// in all; then the error is thrown.

import { createHmac } from "node:crypto";
import { inflateRawSync } from "node:zlib";

export const VERSION = "1.0.0";

/** An error answer of the service (docs/rest-api.md, Errors), or NETWORK_ERROR (status 0). */
export class OgApiError extends Error {
  /**
   * @param {string} message
   * @param {string} code
   * @param {number} status
   * @param {number | null} [retryAfter]
   * @param {string | null} [requestId]
   */
  constructor(message, code, status, retryAfter = null, requestId = null) {
    super(`${code} (${status}): ${message}`);
    this.name = "OgApiError";
    /** @type {string} */ this.code = code;
    /** @type {number} */ this.status = status;
    /** @type {number | null} */ this.retryAfter = retryAfter;
    /** @type {string | null} */ this.requestId = requestId;
    /** @type {string} */ this.detail = message;
  }
}

/**
 * @typedef {Record<string, string | number | boolean | null | undefined>} ImageParams
 * @typedef {{plan: string, quota: number, used: number, remaining: number,
 *            percent_used: number, reset_date: string}} Usage
 * @typedef {{index: number, status: "ok" | "error", code: string | null,
 *            message: string | null, cache: "HIT" | "MISS" | null, file?: string | null,
 *            url?: string | null, image?: Uint8Array}} BatchResult
 */

// RFC 3986: encodeURIComponent also leaves ! ' ( ) * alone, so encode those too.
const encode = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

/**
 * A signed /api/signed/image URL (docs/signed-urls.md, "The algorithm"), made offline.
 * @param {string} baseUrl
 * @param {string} apiKey
 * @param {string} kid
 * @param {ImageParams} params
 * @param {{expiresIn?: number | null, now?: number}} [options] now: Unix seconds
 * @returns {string}
 */
export function signUrl(baseUrl, apiKey, kid, params, { expiresIn = null, now } = {}) {
  /** @type {Record<string, string>} */
  const query = {};
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query[name] = String(value);
  }
  query.kid = kid;
  if (expiresIn != null) {
    query.exp = String(Math.floor(now ?? Date.now() / 1000) + Math.floor(expiresIn));
  }
  const canonical = Object.keys(query)
    .sort()
    .map((name) => `${encode(name)}=${encode(query[name])}`)
    .join("&");
  const signingKey = createHmac("sha256", apiKey).update("ogapi-signed-url-v1").digest();
  const sig = createHmac("sha256", signingKey).update(canonical).digest("hex");
  return `${baseUrl.replace(/\/+$/, "")}/api/signed/image?${canonical}&sig=${sig}`;
}

export class OgImageClient {
  /**
   * @param {{apiKey: string, baseUrl?: string, kid?: string | null, maxRetries?: number,
   *          maxWait?: number, timeoutMs?: number}} options
   *   kid: your key's public id (dashboard, or any signed URL): signUrl then makes no request;
   *   without it, the first signUrl asks the service for it once.
   */
  constructor({ apiKey, baseUrl = "http://127.0.0.1:8080", kid = null, maxRetries = 3,
                maxWait = 30, timeoutMs = 120_000 }) {
    if (!apiKey) throw new TypeError("apiKey is required");
    if (!/^https?:\/\//.test(baseUrl)) throw new TypeError("baseUrl must be an http(s) URL");
    this.apiKey = apiKey;
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.kid = kid;
    this.maxRetries = maxRetries;
    this.maxWait = maxWait;
    this.timeoutMs = timeoutMs;
  }

  /**
   * The image for `params` (PNG by default).
   * @param {ImageParams} params
   * @returns {Promise<Uint8Array>}
   */
  async generate(params) {
    const response = await this.#request("POST", "/api/generate", { json: params });
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * A signed image URL, computed here with your key: no quota spent until it is first fetched.
   * Offline when the client knows the key's `kid` (the constructor's option); otherwise the
   * first call asks the service for it once (`loadKid`).
   * @param {ImageParams} params
   * @param {{expiresIn?: number | null}} [options]
   * @returns {Promise<string>}
   */
  async signUrl(params, { expiresIn = null } = {}) {
    const kid = await this.loadKid();
    return signUrl(this.baseUrl, this.apiKey, kid, params, { expiresIn });
  }

  /**
   * Ask the service for the key's public id once (GET /api/signed/generate counts nothing).
   * @returns {Promise<string>}
   */
  async loadKid() {
    if (!this.kid) {
      const response = await this.#request("GET", "/api/signed/generate?title=kid");
      this.kid = String((await response.json()).kid);
    }
    return this.kid;
  }

  /**
   * `{plan, quota, used, remaining, percent_used, reset_date}`.
   * @returns {Promise<Usage>}
   */
  async getUsage() {
    return (await this.#request("GET", "/api/user/usage")).json();
  }

  /**
   * Render up to 100 images in one call; one result per item, in order. By default each
   * successful result has `file` (`001.png`, ...) and `image` (its bytes); with `{urls: true}`
   * it has `url` (a signed URL serving the image) and nothing is downloaded. An item's failure
   * (e.g. QUOTA_EXCEEDED) is in its result, not thrown.
   * @param {ImageParams[]} items
   * @param {{urls?: boolean, idempotencyKey?: string}} [options]
   * @returns {Promise<BatchResult[]>}
   */
  async batch(items, { urls = false, idempotencyKey } = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: urls ? "application/json" : "application/zip" };
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    const response = await this.#request("POST", "/api/batch", { json: { items }, headers });
    if (urls) return (await response.json()).results;
    const files = unzip(new Uint8Array(await response.arrayBuffer()));
    const manifest = files.get("manifest.json");
    if (!manifest) throw new OgApiError("the ZIP has no manifest.json", "BAD_ANSWER", 200);
    /** @type {BatchResult[]} */
    const results = JSON.parse(new TextDecoder().decode(manifest));
    for (const result of results) {
      if (result.file) result.image = files.get(result.file);
    }
    return results;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{json?: unknown, headers?: Record<string, string>}} [options]
   * @returns {Promise<Response>}
   */
  async #request(method, path, { json, headers = {} } = {}) {
    /** @type {Record<string, string>} */
    const all = { "X-API-Key": this.apiKey, "User-Agent": `ogapi-client-js/${VERSION}`, ...headers };
    if (json !== undefined) all["Content-Type"] = "application/json";
    const body = json === undefined ? undefined : JSON.stringify(json);
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await fetch(this.baseUrl + path, {
          method, headers: all, body, signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        throw new OgApiError(String(err?.cause?.message ?? err), "NETWORK_ERROR", 0);
      }
      if (response.ok) return response;
      const error = await errorOf(response);
      const wait = error.retryAfter ?? 1;
      if (error.code !== "RATE_LIMITED" || attempt >= this.maxRetries || waited + wait > this.maxWait) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      waited += wait;
    }
  }
}

/**
 * @param {Response} response
 * @returns {Promise<OgApiError>}
 */
async function errorOf(response) {
  const text = await response.text();
  const header = response.headers.get("Retry-After");
  const retryAfter = header && !Number.isNaN(Number(header)) ? Number(header) : null;
  try {
    const body = JSON.parse(text);
    if (typeof body.code === "string") {
      return new OgApiError(String(body.message), body.code, response.status, retryAfter,
                            body.request_id ?? null);
    }
  } catch {
    // not JSON: below
  }
  return new OgApiError(text.slice(0, 200), "HTTP_ERROR", response.status, retryAfter);
}

/**
 * The members of a ZIP archive (stored or deflated), read from its central directory.
 * @param {Uint8Array} data
 * @returns {Map<string, Uint8Array>}
 */
export function unzip(data) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let end = data.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new OgApiError("the answer is not a ZIP archive", "BAD_ANSWER", 200);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const names = new TextDecoder();
  /** @type {Map<string, Uint8Array>} */
  const files = new Map();
  for (let i = 0; i < count; i++) {
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = names.decode(data.subarray(at + 46, at + 46 + nameLength));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = data.subarray(start, start + size);
    files.set(name, method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw);
    at += 46 + nameLength + extra;
  }
  return files;
}

// Drives clients/js/ogapi.mjs against a running server for tests/clients/test_js_client.py:
// node js_client_check.mjs BASE_URL API_KEY KID FREE_API_KEY; prints one JSON line of facts.
import { OgApiError, OgImageClient, signUrl, unzip } from "../../clients/js/ogapi.mjs";

const [baseUrl, apiKey, kid, freeKey] = process.argv.slice(2);
const facts = {};
const client = new OgImageClient({ apiKey, baseUrl });

const png = await client.generate({ title: "Hello from Node", width: 600, height: 315 });
facts.pngMagic = Buffer.from(png.subarray(0, 8)).toString("hex");
facts.usage = await client.getUsage();

// Signed offline (kid given: no request), fetched without a key.
const offline = new OgImageClient({ apiKey, baseUrl, kid });
const url = await offline.signUrl({ title: "Signed in Node", subtitle: "é & ü (1*2)!", width: 400 });
const signed = await fetch(url);
facts.signed = { status: signed.status, cache: signed.headers.get("x-cache"),
                 type: signed.headers.get("content-type") };
facts.sameAsFunction = url === signUrl(baseUrl, apiKey, kid,
  { title: "Signed in Node", subtitle: "é & ü (1*2)!", width: 400 });
facts.lazyKid = (await client.signUrl({ title: "Signed in Node", subtitle: "é & ü (1*2)!", width: 400 })) === url;
const expiring = await offline.signUrl({ title: "Expiring" }, { expiresIn: 3600 });
facts.expiring = { hasExp: expiring.includes("exp="), status: (await fetch(expiring)).status };
const tampered = await fetch(url.replace("Signed%20in", "Signed%20out"));
facts.tamperedStatus = tampered.status;

// Batches: a ZIP by default, URLs on request; per-item errors; idempotent replay.
const items = [{ title: "J1", width: 300, height: 200 }, { subtitle: "no title" },
               { title: "J2", format: "jpeg", width: 300, height: 200 }];
const results = await client.batch(items);
facts.batch = results.map((r) => ({ index: r.index, status: r.status, code: r.code, file: r.file ?? null,
                                    cache: r.cache, bytes: r.image ? r.image.length : 0 }));
facts.jpegMagic = Buffer.from(results[2].image.subarray(0, 3)).toString("hex");
const linked = await client.batch(items.slice(0, 1), { urls: true });
const hit = await fetch(linked[0].url);
facts.linked = { status: hit.status, cache: hit.headers.get("x-cache"),
                 same: Buffer.from(await hit.arrayBuffer()).equals(Buffer.from(results[0].image)) };
const first = await client.batch(items, { idempotencyKey: "node-build-1" });
const again = await client.batch(items, { idempotencyKey: "node-build-1" });
facts.replaySame = JSON.stringify(first.map((r) => [r.status, r.file, r.image?.length]))
  === JSON.stringify(again.map((r) => [r.status, r.file, r.image?.length]));
facts.usedAfter = (await client.getUsage()).used;

// Errors: code, status, retryAfter; the bounded wait on RATE_LIMITED.
async function codeOf(promise) {
  try { await promise; return null; } catch (e) {
    return e instanceof OgApiError ? { code: e.code, status: e.status, retryAfter: e.retryAfter } : String(e);
  }
}
facts.badKey = await codeOf(new OgImageClient({ apiKey: "og_" + "x".repeat(32), baseUrl }).getUsage());
facts.conflict = await codeOf(client.batch(items.slice(0, 1), { idempotencyKey: "node-build-1" }));
const impatient = new OgImageClient({ apiKey: freeKey, baseUrl, maxRetries: 0 });
facts.missingTitle = await codeOf(impatient.generate({ subtitle: "x" }));
facts.rateLimited = await codeOf(impatient.generate({ title: "too soon", width: 200, height: 200 }));
await new Promise((r) => setTimeout(r, 1100));
const patient = new OgImageClient({ apiKey: freeKey, baseUrl, maxRetries: 3 });
const t0 = Date.now();
await patient.generate({ title: "first", width: 200, height: 200 });
await patient.generate({ title: "second", width: 200, height: 200 });
facts.waitedMs = Date.now() - t0;
facts.network = await codeOf(new OgImageClient({ apiKey, baseUrl: "http://127.0.0.1:9" }).getUsage());
facts.unzipEmpty = await codeOf(Promise.resolve().then(() => unzip(new Uint8Array(10))));
console.log(JSON.stringify(facts));

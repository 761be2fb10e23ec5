// Verifies recorded webhook requests with the Standard Webhooks reference
// library (npm standardwebhooks): run by webhooks_test.go as
// `node webhooks-verify.mjs <requests.json>`, where the file holds
// {secret, requests: [{headers: {...}, body: "..."}]}. Exits non-zero
// unless every request verifies, and checks that a tampered body and a
// wrong secret are refused, so the check itself can fail.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const { secret, requests } = JSON.parse(readFileSync(process.argv[2], "utf8"));
if (!requests.length) {
  console.error("no requests to verify");
  process.exit(1);
}
const wh = new Webhook(secret);
let failed = 0;
for (const r of requests) {
  try {
    const payload = wh.verify(r.body, r.headers);
    if (payload.type === undefined || payload.timestamp === undefined || payload.data === undefined) {
      throw new Error("body is not {type, timestamp, data}");
    }
  } catch (err) {
    failed++;
    console.error(`webhook ${r.headers["webhook-id"]}: ${err.message}`);
  }
}
const first = requests[0];
const refused = (fn) => {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
};
if (!refused(() => wh.verify(first.body + " ", first.headers))) {
  console.error("a tampered body verified");
  failed++;
}
const other = new Webhook("whsec_" + Buffer.alloc(32, 7).toString("base64"));
if (!refused(() => other.verify(first.body, first.headers))) {
  console.error("another secret verified");
  failed++;
}
console.log(`standardwebhooks: ${requests.length - failed} of ${requests.length} requests verified`);
process.exit(failed ? 1 : 0);

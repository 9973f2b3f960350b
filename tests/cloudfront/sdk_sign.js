// Signs every case of cases.json with the AWS SDK for JavaScript's CloudFront
// signer and prints the results as JSON, for cloudfront_sdk_test.cc to compare
// with core::CloudFrontSigner byte for byte.
//
//   node sdk_sign.js NPM_PREFIX PRIVATE_KEY.pem cases.json
//
// Output: [{"name", "url"} | {"name", "cookies": [[name, value], ...]}] in
// case order; cookies keep the SDK's property order. A case the SDK throws on
// gets {"name", "error"}.
"use strict";
const fs = require("fs");
const path = require("path");

const [prefix, keyPath, casesPath] = process.argv.slice(2);
if (!prefix || !keyPath || !casesPath) {
  console.error("usage: node sdk_sign.js NPM_PREFIX PRIVATE_KEY.pem cases.json");
  process.exit(2);
}
const sdk = require(path.join(prefix, "node_modules", "@aws-sdk", "cloudfront-signer"));
const privateKey = fs.readFileSync(keyPath, "utf8");
const table = JSON.parse(fs.readFileSync(casesPath, "utf8"));
const keyPairId = table.key_pair_id || "K2JCJMDEHXQW5F";

// An explicit custom policy as an SDK user writes it: the statement shape and
// condition order of the AWS documentation, times as the SDK rounds them.
function customPolicy(c) {
  const condition = { DateLessThan: { "AWS:EpochTime": Math.round(c.expires_ms / 1000) } };
  if (c.not_before_ms) {
    condition.DateGreaterThan = { "AWS:EpochTime": Math.round(c.not_before_ms / 1000) };
  }
  if (c.ip_range) condition.IpAddress = { "AWS:SourceIp": c.ip_range };
  return JSON.stringify({ Statement: [{ Resource: c.policy_resource, Condition: condition }] });
}

function sign(c) {
  const args = { keyPairId, privateKey };
  if (c.policy_resource) {
    args.policy = customPolicy(c);
  } else {
    args.dateLessThan = new Date(c.expires_ms);
    if (c.not_before_ms) args.dateGreaterThan = new Date(c.not_before_ms);
    if (c.ip_range) args.ipAddress = c.ip_range;
  }
  if (c.url) args.url = c.url;
  if (c.kind === "url") return { name: c.name, url: sdk.getSignedUrl(args) };
  return { name: c.name, cookies: Object.entries(sdk.getSignedCookies(args)).map(([k, v]) => [k, String(v)]) };
}

const out = table.cases.map((c) => {
  try {
    return sign(c);
  } catch (e) {
    return { name: c.name, error: String(e && e.message) };
  }
});
process.stdout.write(JSON.stringify(out, null, 1) + "\n");

// Generates edgepass_cases.json: the project's own SMD token vectors, made by
// running SMD's own code (token SDK `Token.generate` and the CloudFront
// Function `cff.js` `handler(event)`), in the format of
// ../shared/vectors/README.md. See README.md next to this file.
//
//   node tests/vectors/own/generate_own_vectors.js SMD_CHECKOUT [OUT.json]
//
// SMD_CHECKOUT is a git directory (bare or not) of
// github.com/aws-solutions/secure-media-delivery-at-the-edge-on-aws holding
// commit 1e17e145 (v1.2.6); every SMD file is read from it with
// `git -C SMD_CHECKOUT show <commit>:<path>`, nothing of SMD is kept in this
// repository. OUT.json defaults to edgepass_cases.json next to this script.
//
// The SDK's npm dependencies (base64url, jsonwebtoken) are installed with
// `npm ci --ignore-scripts` from the SDK's own package.json and
// package-lock.json into a temporary directory, which is removed afterwards;
// set SMD_NODE_MODULES=<dir>/node_modules to reuse an existing install
// instead. The @aws-sdk/* modules the SDK requires at load time are stubbed:
// Token.generate does not use them.
//
// Everything is deterministic: Date.now is pinned to the generation and
// validation times, every session id is given explicitly (an SDK random draw
// aborts the run), and the keys are made-up constants. Running it twice gives
// the same file.
"use strict";
const childProcess = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const os = require("os");
const path = require("path");

const SMD_COMMIT = "1e17e145467b7f81c4d51b0398857beac4a859c2";
const SDK_DIR = "source/resources/sdk/node/v1";
const SDK_PATH = `${SDK_DIR}/aws-secure-media-delivery.js`;
const CFF_PATH = "source/lambda/generate_secret_update_cff/cff.js";

const GENERATION_MS = Date.UTC(2025, 0, 1); // 2025-01-01T00:00:00Z
const VALIDATION_MS = Date.UTC(2026, 0, 1); // 2026-01-01T00:00:00Z
const EXP = "4102444800"; // 2100-01-01T00:00:00Z

// Made-up keys in SMD's form (128 lowercase hex, used as text).
const madeUp = (label) => crypto.createHash("sha512").update(label).digest("hex");
const PRIMARY = { kid: "20250101_e4c1a7092b5d3f68c0a1", value: madeUp("edgepass own vectors: primary") };
const SECONDARY = { kid: "20241215_9b2f60d1c8e7a4351f2c", value: madeUp("edgepass own vectors: secondary") };

const P = "/out/v1/5d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6/";
const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:91.0) Gecko/20100101 Firefox/91.0";

const ISSUER_LOWERCASES_IPV6 =
  "edgepass's issuer canonicalizes the viewer IPv6 address (lower case, 8 zero-padded hextets) " +
  "before signing, where SMD's SDK signs the expanded address in the case it was given; the " +
  "tokens differ in intsig and signature, and edgepass's token must give the same outcome for " +
  "the same request";

const SMD_IPV6_CASE_NOTE =
  "the SDK signs the expanded IPv6 address in the case it was given " +
  "(2001:0DB8:85A3:0000:0000:8A2E:0370:7334) while cff.js rebuilds it from the request as " +
  "delivered, so a viewer whose address reached the SDK in upper case is refused from that same " +
  "address in lower case";

// Each case: the SDK input, the request, and, where edgepass must differ from
// what cff.js does, `edgepass_expected` with a why. `edgepass_reason` is the
// validator's ReasonName for a refusal; `drop_session` sends the token
// without its session id part.
const CASES = [
  {
    id: "own-01",
    title: "exc prefix, token binds the session, request under exc without the session id part",
    categories: ["exc", "session", "tamper"],
    policy: { paths: [P], exc: [`${P}ads/`], ssn: true, exp: EXP },
    viewer: { sessionId: "ExcSess7Qk2m" },
    drop_session: true,
    uri: `${P}ads/ad_break_1.ts`,
  },
  {
    id: "own-02",
    title: "exc prefix, token binds the session, request under exc with the session id",
    categories: ["exc", "session"],
    policy: { paths: [P], exc: [`${P}ads/`], ssn: true, exp: EXP },
    viewer: { sessionId: "ExcSess7Qk2m" },
    uri: `${P}ads/ad_break_1.ts`,
  },
  {
    id: "own-03",
    title: "exc prefix, token binds the session, request outside exc without the session id part",
    categories: ["exc", "session", "tamper"],
    policy: { paths: [P], exc: [`${P}ads/`], ssn: true, exp: EXP },
    viewer: { sessionId: "ExcSess7Qk2m" },
    drop_session: true,
    uri: `${P}index_1_00001.ts`,
    edgepass_reason: "missing_session",
  },
  {
    id: "own-04",
    title: "exc prefix, token binds session and IPv4, request under exc without the session id from another IP",
    categories: ["exc", "session", "ip", "ipv4", "tamper"],
    policy: { paths: [P], exc: [`${P}ads/`], ip: true, ssn: true, exp: EXP },
    viewer: { ip: "203.0.113.45", sessionId: "ExcSess7Qk2m" },
    drop_session: true,
    viewer_ip: "198.51.100.99",
    uri: `${P}ads/ad_break_1.ts`,
  },
  {
    id: "own-05",
    title: "country + region bound with reg_fallback, country header matching, region header missing",
    categories: ["geo", "co", "reg", "fallback", "missing-geo"],
    policy: { paths: [P], co: true, reg: true, reg_fallback: true, exp: EXP },
    viewer: { co: "US", reg: "CA" },
    headers: { "cloudfront-viewer-country": "US" },
    uri: `${P}index.m3u8`,
  },
  {
    id: "own-06",
    title: "country + region bound with reg_fallback, both headers present and matching",
    categories: ["geo", "co", "reg", "fallback"],
    policy: { paths: [P], co: true, reg: true, reg_fallback: true, exp: EXP },
    viewer: { co: "US", reg: "CA" },
    headers: { "cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "CA" },
    uri: `${P}index.m3u8`,
  },
  {
    id: "own-07",
    title: "country + region bound with reg_fallback, country matching, region header present but different",
    categories: ["geo", "co", "reg", "fallback"],
    policy: { paths: [P], co: true, reg: true, reg_fallback: true, exp: EXP },
    viewer: { co: "US", reg: "CA" },
    headers: { "cloudfront-viewer-country": "US", "cloudfront-viewer-country-region": "TX" },
    uri: `${P}index.m3u8`,
    edgepass_reason: "binding_mismatch",
  },
  {
    id: "own-08",
    title: "country + region bound with reg_fallback only, both geo headers missing",
    categories: ["geo", "co", "reg", "fallback", "missing-geo"],
    policy: { paths: [P], co: true, reg: true, reg_fallback: true, exp: EXP },
    viewer: { co: "US", reg: "CA" },
    uri: `${P}index.m3u8`,
    edgepass_reason: "missing_geo",
  },
  {
    id: "own-09",
    title: "IPv4 + country + region bound with reg_fallback, same IP, country matching, region header missing",
    categories: ["geo", "co", "reg", "fallback", "missing-geo", "ip", "ipv4"],
    policy: { paths: [P], ip: true, co: true, reg: true, reg_fallback: true, exp: EXP },
    viewer: { ip: "203.0.113.45", co: "US", reg: "CA" },
    viewer_ip: "203.0.113.45",
    headers: { "cloudfront-viewer-country": "US" },
    uri: `${P}index.m3u8`,
    edgepass_expected: {
      valid: false,
      status_code: 401,
      status_description: "Unauthorized",
      why:
        "the token also binds the viewer IP, which shares the intsig with the missing region: " +
        "edgepass refuses with geo_unavailable instead of skipping every binding as SMD does " +
        "(see DESIGN.md, *_fallback; a compatibility switch restores SMD's behaviour)",
    },
    edgepass_reason: "geo_unavailable",
    smd_bug_note:
      "with the region header missing and reg_fallback set, cff.js returns from the intsig check " +
      "before looking at anything else, so the bound IP (and any session, header or query " +
      "binding) goes unchecked",
  },
  {
    id: "own-10",
    title: "IPv6 bound, given to the SDK in upper case, request from the same address lower case uncompressed",
    categories: ["ip", "ipv6"],
    policy: { paths: [P], ip: true, exp: EXP },
    viewer: { ip: "2001:DB8:85A3::8A2E:370:7334" },
    viewer_ip: "2001:db8:85a3:0:0:8a2e:370:7334",
    uri: `${P}index.m3u8`,
    issuer_differs: ISSUER_LOWERCASES_IPV6,
    edgepass_expected_valid_why:
      "same address: edgepass canonicalizes IPv6 to lower case on both sides, so the SDK's " +
      "upper-case intsig input is matched case-insensitively, with the address still bound",
    smd_bug_note: SMD_IPV6_CASE_NOTE,
  },
  {
    id: "own-11",
    title: "IPv6 bound, given to the SDK in upper case, request from the same address lower case compressed (as CloudFront sends it)",
    categories: ["ip", "ipv6", "ipv6-compressed"],
    policy: { paths: [P], ip: true, exp: EXP },
    viewer: { ip: "2001:DB8:85A3::8A2E:370:7334" },
    viewer_ip: "2001:db8:85a3::8a2e:370:7334",
    uri: `${P}index.m3u8`,
    issuer_differs: ISSUER_LOWERCASES_IPV6,
    edgepass_expected_valid_why:
      "same address: edgepass expands \"::\" and compares IPv6 case-insensitively, so the SDK's " +
      "upper-case intsig input matches the address CloudFront delivers",
    smd_bug_note: `${SMD_IPV6_CASE_NOTE}; cff.js also never expands "::" (see the shared vectors' pub-08)`,
  },
  {
    id: "own-12",
    title: "IPv6 bound, given to the SDK in upper case, request from the same address in the same upper case",
    categories: ["ip", "ipv6"],
    policy: { paths: [P], ip: true, exp: EXP },
    viewer: { ip: "2001:DB8:85A3::8A2E:370:7334" },
    viewer_ip: "2001:DB8:85A3:0:0:8A2E:370:7334",
    uri: `${P}index.m3u8`,
    issuer_differs: ISSUER_LOWERCASES_IPV6,
  },
  {
    id: "own-13",
    title: "IPv6 bound, given to the SDK in upper case, request from a different IPv6 address",
    categories: ["ip", "ipv6", "ipv6-compressed"],
    policy: { paths: [P], ip: true, exp: EXP },
    viewer: { ip: "2001:DB8:85A3::8A2E:370:7334" },
    viewer_ip: "2001:db8:85a3::8a2e:370:7335",
    uri: `${P}index.m3u8`,
    issuer_differs: ISSUER_LOWERCASES_IPV6,
    edgepass_reason: "binding_mismatch",
  },
];

function usage(message) {
  if (message) console.error(`generate_own_vectors: ${message}`);
  console.error("usage: node generate_own_vectors.js SMD_CHECKOUT [OUT.json]");
  process.exit(2);
}

function gitShow(checkout, file) {
  try {
    return childProcess.execFileSync("git", ["-C", checkout, "show", `${SMD_COMMIT}:${file}`], {
      encoding: "utf8",
      maxBuffer: 16 << 20,
    });
  } catch (e) {
    usage(`cannot read ${file} at ${SMD_COMMIT} from ${checkout}: ${e.message}`);
  }
}

// node_modules with the SDK's dependencies, as locked by SMD.
function installSdkDeps(checkout, tmp) {
  if (process.env.SMD_NODE_MODULES) return process.env.SMD_NODE_MODULES;
  const dir = path.join(tmp, "deps");
  fs.mkdirSync(dir);
  for (const f of ["package.json", "package-lock.json"]) {
    fs.writeFileSync(path.join(dir, f), gitShow(checkout, `${SDK_DIR}/${f}`));
  }
  childProcess.execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return path.join(dir, "node_modules");
}

// Loads `source` as a CommonJS module at `file` (in the temp dir, so that
// require() finds `nodeModules`), with @aws-sdk/* stubbed.
function loadModule(source, file, nodeModules) {
  fs.writeFileSync(file, source);
  const originalLoad = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request.startsWith("@aws-sdk/")) return {};
    return originalLoad.call(this, request, parent, isMain);
  };
  const previousPath = process.env.NODE_PATH;
  process.env.NODE_PATH = nodeModules;
  Module._initPaths();
  try {
    return require(file);
  } finally {
    Module._load = originalLoad;
    process.env.NODE_PATH = previousPath || "";
    Module._initPaths();
  }
}

function withClock(ms, fn) {
  const realNow = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

const b64json = (segment) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));

async function generateToken(sdk, c) {
  const realRandomInt = crypto.randomInt;
  crypto.randomInt = () => {
    throw new Error(`${c.id}: the SDK drew a random number; give the session id explicitly`);
  };
  const realNow = Date.now;
  Date.now = () => GENERATION_MS;
  try {
    const secret = {
      retrieveKeys: async () => ({
        primary: { uuid: PRIMARY.kid, value: PRIMARY.value },
        secondary: { uuid: SECONDARY.kid, value: SECONDARY.value },
      }),
    };
    const token = new sdk.Token(secret);
    let intsigInput = null;
    const sign = token._sign.bind(token);
    token._sign = (input, key, method) => {
      intsigInput = input;
      return sign(input, key, method);
    };
    // The SDK mutates the policy's arrays in place; hand it a copy.
    const output = await token.generate(
      JSON.parse(JSON.stringify(c.viewer)),
      null,
      JSON.parse(JSON.stringify(c.policy)),
      "primary",
    );
    return { output, intsigInput };
  } finally {
    Date.now = realNow;
    crypto.randomInt = realRandomInt;
  }
}

function requestEvent(c, presented) {
  const headers = { host: { value: "dklf7fsi4gpzd.cloudfront.net" }, "user-agent": { value: UA } };
  for (const [name, value] of Object.entries(c.headers || {})) headers[name] = { value };
  return {
    version: "1.0",
    context: {
      distributionDomainName: "dklf7fsi4gpzd.cloudfront.net",
      distributionId: "E2EXAMPLE0VECT",
      eventType: "viewer-request",
      requestId: `vec-${c.id}`,
    },
    viewer: { ip: c.viewer_ip || "54.240.197.233" },
    request: {
      method: "GET",
      uri: `/${presented}${c.uri}`,
      querystring: {},
      headers,
      cookies: {},
    },
  };
}

// Runs cff.js's handler on a copy of `event` at the validation time. The
// handler answers every refusal with the same 401; the error it logged just
// before "Error validating the token" (or the last one) is SMD's reason.
function validate(cff, event) {
  const errors = [];
  const realLog = console.log;
  console.log = (...args) => {
    for (const a of args) if (a instanceof Error) errors.push(a.message);
  };
  let result;
  try {
    result = withClock(VALIDATION_MS, () => cff.handler(JSON.parse(JSON.stringify(event))));
  } finally {
    console.log = realLog;
  }
  if (result.statusCode === undefined) return { valid: true, uri: result.uri };
  const wrapped = errors.lastIndexOf("Error validating the token");
  const smdError = wrapped > 0 ? errors[wrapped - 1] : errors[errors.length - 1];
  return {
    valid: false,
    status_code: result.statusCode,
    status_description: result.statusDescription,
    smd_error: smdError || null,
  };
}

async function makeCase(sdk, cff, c) {
  const { output, intsigInput } = await generateToken(sdk, c);
  const parts = output.split(".");
  const sessionId = parts.length === 4 ? parts[0] : null;
  const jwt = parts.slice(-3);
  if (jwt.length !== 3) throw new Error(`${c.id}: SDK output is not a token: ${output}`);
  const presented = c.drop_session ? jwt.join(".") : output;
  if (c.drop_session && !sessionId) throw new Error(`${c.id}: drop_session without a session id`);
  const event = requestEvent(c, presented);
  const expected = validate(cff, event);

  const out = {
    id: c.id,
    title: c.title,
    categories: c.categories,
    signing_key: { kid: PRIMARY.kid, value: PRIMARY.value, alias: "primary" },
    validator_keys: { [PRIMARY.kid]: PRIMARY.value, [SECONDARY.kid]: SECONDARY.value },
    generation: {
      time_ms: GENERATION_MS,
      key_alias: "primary",
      token_policy: c.policy,
      viewer_attributes: c.viewer,
      playback_url: null,
      sdk_output: output,
      token: output,
      session_id: sessionId,
      jwt_header: b64json(jwt[0]),
      jwt_payload: b64json(jwt[1]),
      intsig_input: intsigInput,
    },
    tampering: c.drop_session ? { presented_token: presented } : null,
    request_event: event,
    validation_time_ms: VALIDATION_MS,
    expected,
  };
  if (c.edgepass_expected) {
    if (c.edgepass_expected.valid === expected.valid) {
      throw new Error(`${c.id}: edgepass_expected given but SMD already answers valid=${expected.valid}`);
    }
    out.edgepass_expected = c.edgepass_expected;
  } else if (c.edgepass_expected_valid_why && !expected.valid) {
    // Where SMD refuses a case edgepass must accept, say so and why.
    out.edgepass_expected = { valid: true, uri: c.uri, why: c.edgepass_expected_valid_why };
  }
  const edgepassValid = (out.edgepass_expected || expected).valid;
  if (c.edgepass_reason && edgepassValid) throw new Error(`${c.id}: edgepass_reason on a valid case`);
  if (c.edgepass_reason) out.edgepass_reason = c.edgepass_reason;
  if (c.smd_bug_note) out.smd_bug_note = c.smd_bug_note;
  if (c.issuer_differs) out.edgepass_issuer_differs = c.issuer_differs;
  return out;
}

async function main() {
  const [checkout, outArg] = process.argv.slice(2);
  if (!checkout) usage();
  const outPath = outArg || path.join(__dirname, "edgepass_cases.json");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgepass-own-vectors-"));
  try {
    const nodeModules = installSdkDeps(checkout, tmp);
    const sdk = loadModule(gitShow(checkout, SDK_PATH), path.join(tmp, "aws-secure-media-delivery.js"), nodeModules);

    // cff.js: the `secrets` placeholder line replaced by the validator's keys,
    // and CloudFront Functions' String.bytesFrom provided.
    const cffLines = gitShow(checkout, CFF_PATH).split("\n");
    if (!/^var secrets = \{.*\}; \/\/ nosonar$/.test(cffLines[4])) {
      throw new Error(`${CFF_PATH} line 5 is not the secrets placeholder: ${cffLines[4]}`);
    }
    cffLines[4] = `var secrets = ${JSON.stringify({ [PRIMARY.kid]: PRIMARY.value, [SECONDARY.kid]: SECONDARY.value })};`;
    if (String.bytesFrom === undefined) {
      String.bytesFrom = (text, encoding) => Buffer.from(text, encoding).toString("latin1");
    }
    const cff = loadModule(cffLines.join("\n"), path.join(tmp, "cff.js"), nodeModules);

    const cases = [];
    for (const c of CASES) cases.push(await makeCase(sdk, cff, c));
    const doc = {
      name: "edgepass_cases",
      reference: {
        implementation:
          'AWS Solutions "Secure Media Delivery at the Edge" (token SDK aws-secure-media-delivery.js + CloudFront Function cff.js)',
        version: "1.2.6",
        commit: SMD_COMMIT,
      },
      case_count: cases.length,
      cases,
    };
    fs.writeFileSync(outPath, JSON.stringify(doc, null, 1) + "\n");
    for (const c of cases) {
      const e = c.edgepass_expected;
      console.error(
        `${c.id}: smd ${c.expected.valid ? "valid" : `refused (${c.expected.smd_error})`}` +
          (e ? `; edgepass ${e.valid ? "valid" : "refused"}` : ""),
      );
    }
    console.error(`wrote ${cases.length} cases to ${outPath}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`generate_own_vectors: ${e.stack || e}`);
  process.exit(1);
});

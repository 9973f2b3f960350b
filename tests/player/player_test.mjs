// The player page in a real headless Chromium against the local fleet
// (deploy/local/run.sh): HLS and DASH play through nginx with the token
// stripped before the origin, a revoke stops playback with the refusals on the
// page; then viewer mode (OIDC ID tokens this test signs, JWKS it serves from a
// file) with the three entitlements: premium ladder, SD ladder, unauthorized
// clip. Screenshots of each state go to ARTIFACTS.
//
//   node tests/player/player_test.mjs ROOT BUILD_DIR ARTIFACTS PUPPETEER_PREFIX CHROMIUM [SCENARIO...]
// SCENARIO: hls, dash, viewer (default: all). Run by tests/player/player_test.sh.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [root, buildDir, artifacts, puppeteerPrefix, chromium, ...wanted] = process.argv.slice(2);
const scenarios = wanted.length ? wanted : ['hls', 'dash', 'viewer'];
const require = createRequire(path.join(puppeteerPrefix, 'package.json'));
const puppeteer = require('puppeteer-core');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgepass-player-test.'));
fs.mkdirSync(artifacts, { recursive: true });
let fleet = null;    // the run.sh process (its own process group)
let fleetEnv = null; // its ready file: URLs, ports, paths
let browser = null;
let failures = 0;

function log(...args) { console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...args); }
function check(ok, what) {
  if (ok) { log(`ok: ${what}`); } else { failures += 1; log(`FAIL: ${what}`); }
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs, stepMs = 200) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// --- Cleanup: the fleet's whole process group, the browser, the temp dir ----
function stopFleet() {
  if (fleet && fleet.exitCode === null && fleet.signalCode === null) {
    try { process.kill(-fleet.pid, 'SIGTERM'); } catch (e) { /* gone */ }
  }
}
// The fleet's logs, kept with the screenshots (run.sh removes its work dir).
function keepFleetLogs() {
  if (!fleetEnv) return;
  for (const [from, to] of [['logs', 'fleet-logs'], ['edge/logs', 'fleet-logs/nginx']]) {
    try {
      fs.cpSync(path.join(fleetEnv.WORK, from), path.join(artifacts, to), { recursive: true });
    } catch (e) { log(`could not keep ${from}: ${e.message}`); }
  }
}
async function cleanup() {
  if (browser) { try { await browser.close(); } catch (e) { /* gone */ } browser = null; }
  keepFleetLogs();
  if (fleet) {
    stopFleet();
    const exited = await Promise.race([
      new Promise((r) => (fleet.exitCode !== null || fleet.signalCode !== null ? r(true) : fleet.on('exit', () => r(true)))),
      sleep(15000).then(() => false),
    ]);
    if (!exited) { try { process.kill(-fleet.pid, 'SIGKILL'); } catch (e) { /* gone */ } }
    fleet = null;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { log(`got ${sig}`); cleanup().finally(() => process.exit(1)); });
}
process.on('exit', () => { stopFleet(); });

// --- An OIDC provider of our own: an RSA key, its JWKS, signed ID tokens -----
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = 'player-test-1';
fs.writeFileSync(path.join(tmp, 'jwks.json'),
  JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] }));
const b64url = (buf) => Buffer.from(buf).toString('base64url');
function idToken(sub, groups) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const claims = b64url(JSON.stringify({
    iss: 'http://127.0.0.1/local-idp', aud: 'edgepass-player', sub, iat: now, exp: now + 600, groups,
  }));
  const signature = crypto.sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), privateKey);
  return `${header}.${claims}.${b64url(signature)}`;
}

// --- The fleet -------------------------------------------------------------
async function startFleet() {
  const ready = path.join(tmp, 'ready.env');
  const out = fs.openSync(path.join(artifacts, 'fleet.log'), 'w');
  fleet = spawn(path.join(root, 'deploy/local/run.sh'),
    // No --work: run.sh removes its own work dir, even when this process is
    // killed (--exit-with).
    ['--no-build', '--ready-file', ready,
     '--viewer-jwks', path.join(tmp, 'jwks.json'), '--exit-with', String(process.pid)],
    { detached: true, stdio: ['ignore', out, out], env: { ...process.env, EDGEPASS_BUILD_DIR: buildDir } });
  // The stream is generated on the first run (about half a minute on 2 cores).
  await waitFor('the fleet (deploy/local/run.sh --ready-file)', () => {
    if (fleet.exitCode !== null) throw new Error(`run.sh exited ${fleet.exitCode}: see ${artifacts}/fleet.log`);
    return fs.existsSync(ready);
  }, 150000, 250);
  const env = {};
  for (const line of fs.readFileSync(ready, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  fleetEnv = env;
  return env;
}

// --- One playback on the page ----------------------------------------------
const pageState = (page) => page.evaluate(() => ({
  ...window.edgepassPlayer,
  currentTime: document.getElementById('video').currentTime,
  refusalRows: document.querySelectorAll('#refusals tr').length,
  sessionShown: document.getElementById('session-id').textContent,
  boundShown: document.getElementById('bound').textContent,
  policyShown: document.getElementById('policy').textContent,
}));

async function openPlayer(env, { asset, route = 'smd', token = '' }) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 1400 });
  page.on('console', (m) => { if (m.type() === 'error') log(`page console: ${m.text()}`); });
  await page.goto(env.PLAYER, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready=true]', { timeout: 10000 });
  await page.select('#route', route);
  await page.select('#asset', asset);
  if (token) await page.$eval('#id-token', (el, t) => { el.value = t; }, token);
  await page.click('#play');
  return page;
}

async function playsPast(page, seconds, what) {
  try {
    await waitFor(`${what}: currentTime past ${seconds} s`, async () => (await pageState(page)).currentTime > seconds, 40000);
    return true;
  } catch (e) {
    const s = await pageState(page);
    log(`${what}: state ${s.state}, currentTime ${s.currentTime}, events:\n  ${s.events.join('\n  ')}`);
    return false;
  }
}

function logLines(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

// Segments of `sessionId` the edge served (its JSON access log, token in the
// path) and the origin got (token stripped: the path starts with /vod/).
function servedThroughEdge(env, sessionId, segmentRe) {
  const edge = logLines(env.EDGE_ACCESS_LOG).map((l) => JSON.parse(l))
    .filter((r) => r.uri.startsWith(`/${sessionId}.`) && segmentRe.test(r.uri));
  const origin = logLines(env.ORIGIN_ACCESS_LOG)
    .map((l) => (l.match(/"GET (\S+) HTTP/) || [])[1]).filter((p) => p && segmentRe.test(p));
  return { edge, origin };
}

async function revokeScenario(env, { name, asset, segmentRe }) {
  log(`--- ${name}: play, revoke, refused`);
  const page = await openPlayer(env, { asset });
  try {
    if (!check(await playsPast(page, 6, name), `${name}: the video element's currentTime advances past 6 s`)) {
      await page.screenshot({ fullPage: true, path: path.join(artifacts, `${name}-failed.png`) });
      return;
    }
    let s = await pageState(page);
    await page.screenshot({ fullPage: true, path: path.join(artifacts, `${name}-1-playing.png`) });
    check(/^[A-Za-z0-9]{7,}$/.test(s.sessionId) && s.sessionShown === s.sessionId, `${name}: session id ${s.sessionId} shown`);
    check(/"paths"/.test(s.policyShown) && /viewer address: 127\.0\.0\.1/.test(s.boundShown) && /user-agent/i.test(s.boundShown),
      `${name}: the token's policy and the bound viewer attributes are shown`);
    check(s.refusals.length === 0, `${name}: nothing refused while playing`);
    const served = servedThroughEdge(env, s.sessionId, segmentRe);
    const edgeOk = served.edge.filter((r) => r.status === 200 || r.status === 206);
    check(edgeOk.length >= 3, `${name}: the edge served ${edgeOk.length} segments with the session's token`);
    check(edgeOk.every((r) => served.origin.includes(r.uri.slice(r.uri.indexOf('/', 1)))),
      `${name}: the origin got each of them with the token stripped (${served.origin.length} segment requests in its log)`);
    check(!logLines(env.ORIGIN_ACCESS_LOG).some((l) => l.includes(s.sessionId)), `${name}: no token reached the origin`);

    await page.click('#revoke');
    const revokedAt = Date.now();
    try {
      await waitFor(`${name}: the page stops on a refusal`, async () => {
        const now = await pageState(page);
        return now.state === 'stopped' && now.refusals.some((r) => r.reason === 'revoked');
      }, 15000);
    } catch (e) { /* checked below */ }
    s = await pageState(page);
    const stoppedAfter = (Date.now() - revokedAt) / 1000;
    check(s.state === 'stopped' && stoppedAfter < 10, `${name}: playback stopped ${stoppedAfter.toFixed(1)} s after the revoke`);
    check(s.refusalRows > 0 && s.refusals.every((r) => r.status === 403) && s.refusals.some((r) => r.reason === 'revoked'),
      `${name}: the page lists ${s.refusalRows} refused requests, reason ${[...new Set(s.refusals.map((r) => r.reason))].join(',')}`);
    const t1 = s.currentTime;
    await sleep(3000);
    const t2 = (await pageState(page)).currentTime;
    check(t2 - t1 < 0.5, `${name}: currentTime stays at ${t1.toFixed(1)} s (3 s later: ${t2.toFixed(1)} s)`);
    const refusedAtEdge = servedThroughEdge(env, s.sessionId, /./).edge.filter((r) => r.status === 403);
    check(refusedAtEdge.length > 0, `${name}: the edge's access log shows ${refusedAtEdge.length} refused requests of the session`);
    await page.screenshot({ fullPage: true, path: path.join(artifacts, `${name}-2-revoked.png`) });
  } finally {
    await page.close();
  }
}

async function viewerScenario(env) {
  const cases = [
    { name: 'viewer-premium', groups: ['premium'], variant: 'premium', served: 'entitled', segmentRe: /\/vod\/demo\/(hd|sd)\/seg\d+\.ts$/ },
    { name: 'viewer-standard', groups: ['standard'], variant: 'standard', served: 'entitled', segmentRe: /\/vod\/demo\/sd\/seg\d+\.ts$/ },
    { name: 'viewer-none', groups: [], variant: '', served: 'unauthorized', segmentRe: /\/vod\/unauthorized\/seg\d+\.ts$/ },
  ];
  for (const c of cases) {
    log(`--- ${c.name}: ID token with groups [${c.groups}]`);
    const page = await openPlayer(env, { asset: 'entitled', route: 'viewer', token: idToken(`viewer-${c.name}`, c.groups) });
    try {
      const ok = await playsPast(page, 3, c.name);
      const s = await pageState(page);
      await page.screenshot({ fullPage: true, path: path.join(artifacts, `${c.name}.png`) });
      check(ok, `${c.name}: plays (currentTime ${s.currentTime.toFixed(1)} s)`);
      check(s.variant === c.variant && s.assetServed === c.served,
        `${c.name}: variant "${s.variant}", asset ${s.assetServed} (want "${c.variant}", ${c.served})`);
      const entitlement = await page.$eval('#entitlement', (el) => el.textContent);
      check(c.variant ? entitlement === c.variant : /none/.test(entitlement), `${c.name}: the page shows the entitlement "${entitlement}"`);
      const served = servedThroughEdge(env, s.sessionId, /\.ts$/).edge.filter((r) => r.status === 200);
      check(served.length > 0 && served.every((r) => c.segmentRe.test(r.uri)),
        `${c.name}: ${served.length} segments, all from ${c.segmentRe}`);
      if (c.variant === 'premium') {
        // A session the viewer replica issued is revoked through the fleet's.
        await page.click('#revoke');
        const stopped = await waitFor(`${c.name}: stopped after the revoke`, async () => {
          const now = await pageState(page);
          return now.state === 'stopped' && now.refusals.some((r) => r.reason === 'revoked') ? now : null;
        }, 15000).catch(() => null);
        check(stopped !== null, `${c.name}: revoked, the edge refuses the session and the page stops`);
        await page.screenshot({ fullPage: true, path: path.join(artifacts, `${c.name}-revoked.png`) });
      }
    } finally {
      await page.close();
    }
  }
  // A token the JWKS does not know: refused, and the page says why.
  const page = await openPlayer(env, { asset: 'entitled', route: 'viewer', token: 'not-a-token' });
  try {
    const s = await waitFor('the refusal of a bad ID token', async () => {
      const now = await pageState(page);
      return now.state === 'error' ? now : null;
    }, 10000);
    check(s.refusals.some((r) => r.status === 401), `viewer-bad-token: refused 401 (${s.refusals.map((r) => r.reason).join(',')})`);
    await page.screenshot({ fullPage: true, path: path.join(artifacts, 'viewer-bad-token.png') });
  } finally {
    await page.close();
  }
}

async function main() {
  const started = Date.now();
  const env = await startFleet();
  log(`fleet ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${env.PLAYER}`);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    pipe: true,  // Chromium exits by itself when this process goes
    userDataDir: path.join(tmp, 'chromium-profile'),
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio', '--disable-gpu',
           '--no-first-run', '--disable-extensions'],
  });
  if (scenarios.includes('hls')) {
    await revokeScenario(env, { name: 'hls', asset: 'hls', segmentRe: /\/vod\/demo\/(hd|sd)\/seg\d+\.ts$/ });
  }
  if (scenarios.includes('dash')) {
    await revokeScenario(env, { name: 'dash', asset: 'dash', segmentRe: /\/vod\/dash\/chunk-\d+-\d+\.m4s$/ });
  }
  if (scenarios.includes('viewer')) await viewerScenario(env);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${artifacts}`);
}

let status = 0;
try {
  await main();
} catch (e) {
  log(`FAIL: ${e.stack || e}`);
  failures += 1;
} finally {
  await cleanup();
  status = failures ? 1 : 0;
  log(failures ? `${failures} check(s) failed` : 'all checks passed');
}
process.exit(status);

// The edgepass player page (served by the local fleet's nginx, deploy/local/).
// Gets a playback URL (SMD's /tokengenerate, or /v1/ in viewer mode with an
// ID token), plays it through the edge with hls.js or dash.js, shows what the
// token binds, revokes the session through the REST API, and logs every
// request the edge or the API refused with its X-Edgepass-Reason.
// The page holds no API key: nginx adds the local player's key to the two
// routes it may call (deploy/local/nginx-server.conf).
// window.edgepassPlayer exposes the state to the browser test
// (tests/player/player_test.mjs).
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  state: 'idle',       // idle | loading | playing | stopped | error
  sessionId: '',
  assetServed: '',
  variant: '',
  refusals: [],        // {time, status, reason, path}
  served: 0,           // media responses the edge answered 200/206
  events: [],
};
window.edgepassPlayer = state;

let assets = [];
let hls = null;
let dash = null;

function setState(s, detail) {
  state.state = s;
  const el = $('state');
  el.textContent = detail ? `${s}: ${detail}` : s;
  el.className = s;
}

function event(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
  state.events.push(line);
  const li = document.createElement('li');
  li.textContent = line;
  $('events').appendChild(li);
}

// "/<token>/vod/..." -> "/<token>/vod/..." with the token elided; other paths as they are.
function elide(path) {
  const m = path.match(/^\/([^/]+)(\/.*)$/);
  return m && m[1].split('.').length >= 3 ? `/<token>${m[2]}` : path;
}

function pathOf(url) {
  try { return new URL(url, location.href).pathname; } catch (e) { return String(url); }
}

function isMedia(path) { return /\.(m3u8|mpd|ts|m4s|mp4)$/.test(path); }

function refused(status, reason, url) {
  const entry = { time: new Date().toISOString().slice(11, 23), status, reason: reason || '(none)', path: elide(pathOf(url)) };
  state.refusals.push(entry);
  const tr = document.createElement('tr');
  for (const v of [entry.time, String(status), entry.reason, entry.path]) {
    const td = document.createElement('td');
    td.textContent = v;
    tr.appendChild(td);
  }
  $('refusals').appendChild(tr);
  // The edge refused the stream: stop playing rather than play out the buffer.
  if (isMedia(entry.path) && (state.state === 'playing' || state.state === 'loading')) {
    stopPlayback(`refused by the edge (${entry.reason})`);
  }
}

function observe(status, url, header) {
  const path = pathOf(url);
  if (status === 401 || status === 403) {
    refused(status, header('X-Edgepass-Reason'), url);
  } else if ((status === 200 || status === 206) && isMedia(path)) {
    state.served += 1;
  }
}

// Every response the players fetch goes through one of these two.
const realOpen = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  this.addEventListener('loadend', () => {
    if (this.status) observe(this.status, this.responseURL || url, (h) => this.getResponseHeader(h));
  });
  return realOpen.call(this, method, url, ...rest);
};
const realFetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  if (isMedia(pathOf(response.url))) observe(response.status, response.url, (h) => response.headers.get(h));
  return response;
};

function b64url(s) {
  s = s.replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(s + '='.repeat((4 - (s.length % 4)) % 4)));
}

// The token in the first path segment: [session.]header.payload.signature.
function decodeToken(playbackUrl) {
  const segment = new URL(playbackUrl).pathname.split('/')[1] || '';
  const parts = segment.split('.');
  const [session, header, payload] = parts.length === 4 ? parts : ['', ...parts];
  return { session, header: b64url(header), payload: b64url(payload) };
}

// "sub, groups [..]" of an ID token (decoded for display only; the server verifies it).
function idTokenSummary(token) {
  try {
    const claims = b64url(token.split('.')[1]);
    const groups = Object.keys(claims).filter((k) => /groups$/.test(k)).map((k) => claims[k]).flat();
    return `${claims.sub} (issuer ${claims.iss}), groups [${groups.join(', ')}]`;
  } catch (e) {
    return '(not a JWT)';
  }
}

function show(id, text) { $(id).textContent = text || ''; }

function showBound(claims, smdPolicy) {
  const ul = $('bound');
  ul.replaceChildren();
  const add = (text) => { const li = document.createElement('li'); li.textContent = text; ul.appendChild(li); };
  if (claims.ssn) add(`session id: ${state.sessionId}`);
  if (claims.ip) add(`viewer address: ${smdPolicy ? smdPolicy.ip_value : 'the address the API saw (through nginx)'}`);
  for (const h of claims.headers || []) {
    const value = h.toLowerCase() === 'user-agent' ? (smdPolicy && smdPolicy.ua_value) || navigator.userAgent : '(this request\'s)';
    add(`header ${h}: ${value}`);
  }
  for (const q of claims.qs || []) add(`query parameter ${q}`);
  for (const [claim, what] of [['co', 'country'], ['reg', 'region'], ['cty', 'city']]) {
    if (claims[claim]) add(`${what} (from the edge's geo lookup)`);
  }
  if (!ul.children.length) add('none: the token opens its paths for anyone until it expires');
}

async function apiError(response) {
  let message = response.statusText;
  try {
    const body = await response.json();
    if (body.error) message = `${body.error.code || ''} ${body.error.message || ''}`.trim();
  } catch (e) { /* not JSON */ }
  refused(response.status, message, response.url);
  return message;
}

async function getPlayback(assetId, route) {
  if (route === 'viewer') {
    const url = `/viewer/v1/assets/${encodeURIComponent(assetId)}/playback`;
    show('request-url', `POST ${url}`);
    const response = await realFetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${$('id-token').value.trim()}` },
      body: '{}',
    });
    if (!response.ok) throw new Error(`${response.status} ${await apiError(response)}`);
    const body = await response.json();
    return { playbackUrl: body.playbackUrl, sessionId: body.sessionId || '', assetServed: body.assetId, variant: body.variant || '', smdPolicy: null };
  }
  const url = `/tokengenerate?id=${encodeURIComponent(assetId)}`;
  show('request-url', `GET ${url}`);
  const response = await realFetch(url);
  if (!response.ok) throw new Error(`${response.status} ${await apiError(response)}`);
  const body = await response.json();
  return { playbackUrl: body.playback_url, sessionId: '', assetServed: assetId, variant: '', smdPolicy: body.token_policy };
}

function destroyPlayers() {
  if (hls) { hls.destroy(); hls = null; }
  if (dash) { dash.reset(); dash = null; }
}

function stopPlayback(why) {
  const video = $('video');
  video.pause();
  if (hls) hls.stopLoad();
  if (dash) dash.pause();
  setState('stopped', why);
  event(`playback stopped: ${why}`);
}

async function play() {
  destroyPlayers();
  const assetId = $('asset').value;
  const route = $('route').value;
  const asset = assets.find((a) => a.id === assetId) || { kind: 'hls' };
  setState('loading');
  $('revoke').disabled = true;
  let grant;
  try {
    grant = await getPlayback(assetId, route);
  } catch (e) {
    setState('error', e.message);
    event(`no playback URL: ${e.message}`);
    return;
  }
  const token = decodeToken(grant.playbackUrl);
  state.sessionId = grant.sessionId || token.session;
  state.assetServed = grant.assetServed;
  state.variant = grant.variant;
  show('playback-url', grant.playbackUrl);
  show('session-id', state.sessionId || '(none: the policy binds no session)');
  show('asset-served', grant.assetServed);
  show('viewer', route === 'viewer' ? idTokenSummary($('id-token').value.trim()) : '(not signed in: SMD route, the backend\'s API key)');
  show('entitlement', route === 'viewer' ? (grant.variant || '(none: the asset\'s default or its fallback)') : '(not used by this route)');
  show('policy', JSON.stringify(token.payload, null, 2));
  show('jwt-header', JSON.stringify(token.header, null, 2));
  showBound(token.payload, grant.smdPolicy);
  $('revoke').disabled = !state.sessionId;
  event(`session ${state.sessionId} for asset ${grant.assetServed}${grant.variant ? ` (variant ${grant.variant})` : ''}`);

  // The playback URL names the edge's public host; this page is served by that
  // edge, so play its path here.
  const u = new URL(grant.playbackUrl);
  const src = u.pathname + u.search;
  const video = $('video');
  // Small buffers: the player keeps asking the edge, so a revocation shows
  // within a segment or two.
  const kind = /\.mpd$/.test(u.pathname) ? 'dash' : asset.kind;
  if (kind === 'dash') {
    dash = dashjs.MediaPlayer().create();
    dash.updateSettings({ streaming: { buffer: { bufferTimeAtTopQuality: 4, bufferTimeAtTopQualityLongForm: 4 } } });
    dash.on(dashjs.MediaPlayer.events.ERROR, (e) => {
      event(`dash.js error: ${JSON.stringify(e.error && (e.error.message || e.error.code))}`);
    });
    dash.initialize(video, src, true);
  } else if (window.Hls && Hls.isSupported()) {
    hls = new Hls({ maxBufferLength: 4, maxMaxBufferLength: 6, backBufferLength: 10 });
    hls.on(Hls.Events.ERROR, (_, data) => {
      event(`hls.js ${data.fatal ? 'fatal ' : ''}error: ${data.details}`);
      if (data.fatal && state.state !== 'stopped') stopPlayback(`player error ${data.details}`);
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => event(`play(): ${e.message}`)));
  } else {
    video.src = src;  // native HLS (Safari)
    video.play().catch((e) => event(`play(): ${e.message}`));
  }
}

async function revoke() {
  const id = state.sessionId;
  if (!id) return;
  $('revoke').disabled = true;
  const url = `/v1/sessions/${encodeURIComponent(id)}/revoke`;
  const response = await realFetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ reason: 'revoked from the player page' }),
  });
  if (response.ok) {
    event(`session ${id} revoked (POST ${url})`);
  } else {
    event(`revoke failed: ${response.status} ${await apiError(response)}`);
    $('revoke').disabled = false;
  }
}

$('video').addEventListener('timeupdate', () => {
  const t = $('video').currentTime;
  show('time', t.toFixed(1));
  if (t > 0 && state.state === 'loading') setState('playing');
});
$('video').addEventListener('ended', () => setState('idle', 'ended'));
$('route').addEventListener('change', () => { $('id-token-label').hidden = $('route').value !== 'viewer'; });
$('play').addEventListener('click', play);
$('revoke').addEventListener('click', revoke);

(async () => {
  const demo = await (await realFetch('demo.json')).json();
  assets = demo.assets;
  for (const a of assets) {
    if (a.viewer && !demo.viewer_mode) continue;
    const option = document.createElement('option');
    option.value = a.id;
    option.textContent = a.label;
    $('asset').appendChild(option);
  }
  if (!demo.viewer_mode) $('route').querySelector('option[value=viewer]').disabled = true;
  document.body.dataset.ready = 'true';
})();

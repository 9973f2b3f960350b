// Offline schema check of `helm template` output: every document must be a
// Kubernetes object whose apiVersion/kind kubernetes-models knows, and pass
// that model's validation (the Kubernetes API's OpenAPI schemas: types,
// required fields, enums, formats). The Prometheus Operator kinds
// (monitoring.coreos.com/v1 ServiceMonitor, PrometheusRule), which
// kubernetes-models does not carry, get a minimal structural check here.
// Field names are checked against the models' type declarations too
// (unknown fields). Also checks that the chart embeds the project's own files unchanged: the
// nginx config (up to the substitutions of templates/edge.yaml), the alert
// rules and the dashboard.
//
//   NODE_PATH=PREFIX/node_modules node check_manifests.js RENDERED.yaml SOURCE_DIR
//
// Prints one line per problem ("RENDERED.yaml: doc N Kind/name: ...") and
// exits 1 when there is any.
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const [renderedPath, sourceDir] = process.argv.slice(2);
if (!renderedPath || !sourceDir) {
  console.error('usage: check_manifests.js RENDERED.yaml SOURCE_DIR');
  process.exit(2);
}
const problems = [];
const label = path.basename(renderedPath);

// apiVersion "apps/v1" -> module "kubernetes-models/apps/v1"; core "v1" -> "kubernetes-models/v1".
function modelFor(apiVersion, kind) {
  if (!/^[a-z0-9.]+(\/v[0-9a-z]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) return null;
  let mod;
  try {
    mod = require(`kubernetes-models/${apiVersion}`);
  } catch (e) {
    return null;
  }
  return typeof mod[kind] === 'function' ? mod[kind] : null;
}

// Unknown fields. kubernetes-models' validators accept fields the API does
// not have (a misspelt key would be dropped by the API server, silently), so
// the field names of each object are also checked against the models' type
// declarations (.d.ts): every interface lists its properties, and a property
// whose type is another imported interface (or an Array of one) is followed.
const interfaceCache = new Map();
function interfaceOf(dtsPath) {
  if (interfaceCache.has(dtsPath)) return interfaceCache.get(dtsPath);
  let text;
  try {
    text = fs.readFileSync(dtsPath, 'utf8');
  } catch (e) {
    interfaceCache.set(dtsPath, null);
    return null;
  }
  const imports = {};
  for (const m of text.matchAll(/^import \{ ([A-Za-z0-9_, ]+) \} from "([^"]+)";$/gm)) {
    for (const name of m[1].split(',').map((x) => x.trim())) imports[name] = m[2];
  }
  const body = (text.match(/^export interface I[A-Za-z0-9]+(?: extends [A-Za-z0-9, ]+)? \{\n([\s\S]*?)^\}/m) || [])[1];
  if (body === undefined) {
    interfaceCache.set(dtsPath, null);
    return null;
  }
  const props = {};
  for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
    const t = m[2].match(/^(Array<)?(I[A-Za-z0-9]+)>?$/);
    let child = null;
    if (t && imports[t[2]]) {
      const spec = imports[t[2]];
      const resolved = spec.startsWith('.')
        ? path.resolve(path.dirname(dtsPath), spec)
        : path.join(modelsRoot, '..', spec);
      child = { dts: `${resolved}.d.ts`, array: Boolean(t[1]) };
    }
    props[m[1]] = child;
  }
  // TypeMeta fields.
  if (/extends TypeMeta/.test(text)) props.apiVersion = props.apiVersion || null, props.kind = props.kind || null;
  interfaceCache.set(dtsPath, props);
  return props;
}
const modelsRoot = path.dirname(require.resolve('kubernetes-models/package.json'));
function unknownFields(value, dtsPath, where, out) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const props = interfaceOf(dtsPath);
  if (!props) return;  // a map or a type the declarations do not spell out
  for (const [key, v] of Object.entries(value)) {
    if (!(key in props)) {
      out.push(`${where}.${key}: unknown field (not in ${path.basename(dtsPath, '.d.ts')})`);
      continue;
    }
    const child = props[key];
    if (!child) continue;
    if (child.array && Array.isArray(v)) v.forEach((e, i) => unknownFields(e, child.dts, `${where}.${key}[${i}]`, out));
    else if (!child.array) unknownFields(v, child.dts, `${where}.${key}`, out);
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNonEmptyString = (v) => typeof v === 'string' && v.length > 0;
const DURATION = /^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|y))+)$/;  // Prometheus duration

// ServiceMonitor: spec.selector, spec.endpoints[] with port or targetPort.
function checkServiceMonitor(obj, where) {
  const spec = obj.spec;
  if (!isObject(spec)) return [`${where}: spec must be an object`];
  const out = [];
  if (!isObject(spec.selector)) out.push(`${where}: spec.selector must be an object`);
  if (!Array.isArray(spec.endpoints) || spec.endpoints.length === 0) {
    out.push(`${where}: spec.endpoints must be a non-empty list`);
  } else {
    spec.endpoints.forEach((e, i) => {
      if (!isObject(e)) return out.push(`${where}: spec.endpoints[${i}] must be an object`);
      if (!isNonEmptyString(e.port) && e.targetPort === undefined) {
        out.push(`${where}: spec.endpoints[${i}] needs port (a Service port name) or targetPort`);
      }
      if (e.interval !== undefined && !DURATION.test(e.interval)) {
        out.push(`${where}: spec.endpoints[${i}].interval: not a duration: ${e.interval}`);
      }
    });
  }
  return out;
}

// PrometheusRule: spec.groups[] {name, rules[] {alert|record, expr, for?, labels?, annotations?}}.
function checkPrometheusRule(obj, where) {
  const spec = obj.spec;
  if (!isObject(spec) || !Array.isArray(spec.groups) || spec.groups.length === 0) {
    return [`${where}: spec.groups must be a non-empty list`];
  }
  const out = [];
  const names = new Set();
  spec.groups.forEach((g, i) => {
    const gw = `${where}: spec.groups[${i}]`;
    if (!isObject(g) || !isNonEmptyString(g.name)) return out.push(`${gw}.name must be a string`);
    if (names.has(g.name)) out.push(`${gw}.name: duplicate group ${g.name}`);
    names.add(g.name);
    if (!Array.isArray(g.rules) || g.rules.length === 0) return out.push(`${gw}.rules must be a non-empty list`);
    g.rules.forEach((r, j) => {
      const rw = `${gw}.rules[${j}]`;
      if (!isObject(r)) return out.push(`${rw} must be an object`);
      if (isNonEmptyString(r.alert) === isNonEmptyString(r.record)) out.push(`${rw}: exactly one of alert, record`);
      if (!isNonEmptyString(r.expr)) out.push(`${rw}.expr must be a non-empty string`);
      if (r.for !== undefined && !DURATION.test(r.for)) out.push(`${rw}.for: not a duration: ${r.for}`);
      for (const f of ['labels', 'annotations']) {
        if (r[f] === undefined) continue;
        if (!isObject(r[f]) || !Object.values(r[f]).every((v) => typeof v === 'string')) {
          out.push(`${rw}.${f} must map names to strings`);
        }
      }
      const known = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
      for (const k of Object.keys(r)) if (!known.has(k)) out.push(`${rw}: unknown field ${k}`);
    });
  });
  return out;
}

const crdChecks = {
  'monitoring.coreos.com/v1 ServiceMonitor': checkServiceMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': checkPrometheusRule,
};

const text = fs.readFileSync(renderedPath, 'utf8');
const docs = YAML.parseAllDocuments(text);
const objects = [];
docs.forEach((doc, i) => {
  const where0 = `${label}: doc ${i + 1}`;
  if (doc.errors.length > 0) {
    problems.push(`${where0}: YAML: ${doc.errors[0].message}`);
    return;
  }
  const obj = doc.toJS();
  if (obj === null || obj === undefined) return;  // an empty document between ---
  if (!isObject(obj)) return problems.push(`${where0}: not a mapping`);
  const where = `${where0} ${obj.kind}/${obj.metadata && obj.metadata.name}`;
  if (!isNonEmptyString(obj.apiVersion) || !isNonEmptyString(obj.kind)) {
    return problems.push(`${where}: apiVersion and kind are required`);
  }
  if (!isObject(obj.metadata) || !isNonEmptyString(obj.metadata.name)) {
    return problems.push(`${where}: metadata.name is required`);
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name) || obj.metadata.name.length > 63) {
    problems.push(`${where}: metadata.name is not a DNS label of at most 63 characters`);
  }
  objects.push(obj);
  const crd = crdChecks[`${obj.apiVersion} ${obj.kind}`];
  if (crd) {
    problems.push(...crd(obj, where));
    return;
  }
  const Model = modelFor(obj.apiVersion, obj.kind);
  if (!Model) return problems.push(`${where}: no Kubernetes schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${where}: ${String(e.message).split('\n').slice(0, 5).join('; ')}`);
  }
  const dts = path.join(modelsRoot, obj.apiVersion.includes('/') ? obj.apiVersion : `v1`, `${obj.kind}.d.ts`);
  if (!fs.existsSync(dts)) return problems.push(`${where}: no type declarations at ${dts}`);
  unknownFields(obj, dts, where, problems);
});
if (objects.length === 0) problems.push(`${label}: no objects rendered`);

// Names are unique per kind.
const seen = new Set();
for (const o of objects) {
  const key = `${o.kind}/${o.metadata.name}`;
  if (seen.has(key)) problems.push(`${label}: ${key} rendered twice`);
  seen.add(key);
}

// The chart's copies of project files.
const read = (rel) => fs.readFileSync(path.join(sourceDir, rel), 'utf8');
for (const o of objects) {
  if (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-edge-nginx')) {
    // Undo the substitutions of templates/edge.yaml; the rest must be the shipped file.
    const port = (o.data['edgepass.conf'].match(/^    listen ([0-9]+);$/m) || [])[1];
    let conf = o.data['edgepass.conf']
      .replace(`listen ${port};`, 'listen 127.0.0.1:8080;')
      .replace('error_log stderr warn;', 'error_log logs/error.log warn;')
      .replace('access_log /dev/stdout edgepass_json;', 'access_log logs/access.log edgepass_json;')
      .replace(/(upstream edgepass_origin \{\n\s+server )[^;]+;/, '$1127.0.0.1:8082;');
    if (!port) problems.push(`${label}: ${o.metadata.name}: no "listen PORT;" for the edge`);
    if (conf.trimEnd() !== read('deploy/nginx/edgepass.conf').trimEnd()) {
      problems.push(`${label}: ${o.metadata.name}: differs from deploy/nginx/edgepass.conf beyond the chart's substitutions`);
    }
  }
  if (o.kind === 'PrometheusRule') {
    const shipped = YAML.parse(read('deploy/prometheus/edgepass-rules.yaml'));
    if (JSON.stringify(o.spec) !== JSON.stringify(shipped)) {
      problems.push(`${label}: PrometheusRule spec differs from deploy/prometheus/edgepass-rules.yaml`);
    }
  }
  if (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')) {
    const shipped = JSON.parse(read('deploy/grafana/edgepass-dashboard.json'));
    if (JSON.stringify(JSON.parse(o.data['edgepass.json'])) !== JSON.stringify(shipped)) {
      problems.push(`${label}: dashboard ConfigMap differs from deploy/grafana/edgepass-dashboard.json`);
    }
  }
  if (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-config')) {
    try {
      const config = JSON.parse(o.data['config.json']);
      for (const [k, v] of Object.entries(config)) {
        if (!/^[a-z][a-z0-9_]*$/.test(k)) problems.push(`${label}: config.json: bad key ${k}`);
        if (typeof v !== 'string' && typeof v !== 'boolean') {
          problems.push(`${label}: config.json: ${k} must be a string or boolean (the server's config file format)`);
        }
      }
    } catch (e) {
      problems.push(`${label}: config.json does not parse: ${e.message}`);
    }
  }
}

for (const p of problems) console.log(p);
if (problems.length > 0) process.exit(1);
console.log(`${label}: ${objects.length} objects pass`);

// Writes the files the chart hands edgepass-server out of a `helm template`
// rendering, into DIR: config.json (ConfigMap *-config), access.json (Secret
// *-access), keyring.json (Secret *-keyring, when rendered), backend.key and
// edge.key (Secret *-api-keys), and from the example edge nginx.conf
// (ConfigMap *-edge-nginx) and validator.args (the validator container's
// args, one per line). Secrets are written 0600.
//
//   NODE_PATH=PREFIX/node_modules node extract_files.js RENDERED.yaml DIR
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const [rendered, dir] = process.argv.slice(2);
const write = (name, text, mode) => fs.writeFileSync(path.join(dir, name), text, { mode });
let found = 0;
for (const doc of YAML.parseAllDocuments(fs.readFileSync(rendered, 'utf8'))) {
  const o = doc.toJS();
  if (!o || !o.metadata) continue;
  const n = o.metadata.name;
  if (o.kind === 'ConfigMap' && n.endsWith('-config')) write('config.json', o.data['config.json'], 0o644), found++;
  if (o.kind === 'ConfigMap' && n.endsWith('-edge-nginx')) write('nginx.conf', o.data['edgepass.conf'], 0o644);
  if (o.kind === 'Deployment' && n.endsWith('-edge')) {
    const validator = o.spec.template.spec.containers.find((c) => c.name === 'validator');
    write('validator.args', validator.args.join('\n') + '\n', 0o644);
  }
  if (o.kind !== 'Secret' || !o.stringData) continue;
  if (n.endsWith('-access')) write('access.json', o.stringData['access.json'], 0o600), found++;
  if (n.endsWith('-keyring')) write('keyring.json', o.stringData['keyring.json'], 0o600);
  if (n.endsWith('-api-keys')) {
    write('backend.key', o.stringData.backend, 0o600);
    write('edge.key', o.stringData.edge, 0o600);
    found++;
  }
}
if (found !== 3) {
  console.error(`extract_files: ${rendered}: expected the config, access and api-keys objects`);
  process.exit(1);
}

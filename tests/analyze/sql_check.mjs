// Runs the SQL `edgepass analyze --emit-sql` prints on real engines' code.
//
//   node --import register_hook.mjs sql_check.mjs duckdb PREFIX LOG.tsv QUERY.sql
//     loads a CloudFront standard log (W3C, 33 fields) as table
//     cloudfront_logs with the column names of Athena's CloudFront table,
//     runs the query, prints the rows as a JSON array (duckdb-view: the
//     same through a view, the file read while the query runs);
//   node --import register_hook.mjs sql_check.mjs trino PREFIX QUERY.sql...
//     parses each query with Trino's grammar (dt-sql-parser), prints
//     {"QUERY.sql": [syntax errors], ...} (an empty list: accepted).
import { readFileSync } from 'node:fs';

const [mode, prefix, ...rest] = process.argv.slice(2);
const columns = ['date', 'time', 'location', 'bytes', 'request_ip', 'method', 'host', 'uri', 'status',
  'referrer', 'user_agent', 'query_string', 'cookie', 'result_type', 'request_id', 'host_header',
  'request_protocol', 'request_bytes', 'time_taken', 'xforwarded_for', 'ssl_protocol', 'ssl_cipher',
  'response_result_type', 'http_version', 'fle_status', 'fle_encrypted_fields', 'c_port',
  'time_to_first_byte', 'x_edge_detailed_result_type', 'sc_content_type', 'sc_content_len',
  'sc_range_start', 'sc_range_end'];

if (mode === 'duckdb' || mode === 'duckdb-view') {
  // duckdb-view: a view over the file (read, decompressed and parsed while
  // the query runs), for the benchmark; duckdb: a table loaded first.
  const [log, queryFile] = rest;
  const duckdb = await import(`${prefix}/node_modules/@duckdb/node-api/lib/index.js`);
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const spec = columns.map((c) => `'${c}': 'VARCHAR'`).join(', ');
  await db.run(`CREATE ${mode === 'duckdb' ? 'TABLE' : 'VIEW'} cloudfront_logs AS SELECT * FROM read_csv('${log.replaceAll("'", "''")}',
      delim = '\t', header = false, skip = 2, auto_detect = false, columns = {${spec}})`);
  const result = await db.runAndReadAll(readFileSync(queryFile, 'utf8'));
  console.log(JSON.stringify(result.getRowObjectsJson()));
} else if (mode === 'trino') {
  const { TrinoSQL } = await import(`${prefix}/node_modules/dt-sql-parser/dist/index.js`);
  const parser = new TrinoSQL();
  const out = {};
  for (const queryFile of rest) {
    const errors = parser.validate(readFileSync(queryFile, 'utf8'));
    out[queryFile] = errors.map((e) => `${e.startLine}:${e.startColumn}: ${e.message}`);
  }
  console.log(JSON.stringify(out));
} else {
  console.error('usage: sql_check.mjs duckdb|trino PREFIX ...');
  process.exit(2);
}

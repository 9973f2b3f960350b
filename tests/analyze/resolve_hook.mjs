// dt-sql-parser's ESM build imports directories ('./parser') and
// extensionless files, as bundlers allow and node does not: resolve those to
// index.js / .js. Registered by register_hook.mjs (node --import).
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (e.code === 'ERR_UNSUPPORTED_DIR_IMPORT') return next(specifier + '/index.js', context);
    if (e.code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.')) return next(specifier + '.js', context);
    throw e;
  }
}

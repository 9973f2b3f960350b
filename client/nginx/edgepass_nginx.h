/* The C API the nginx module (ngx_http_edgepass_module.c) calls: the
 * validator library over the state file the sidecar publishes
 * (client/validator/module_state.h). Plain C, no nginx types, so it builds and
 * is tested without nginx.
 *
 *   char err[256];
 *   edgepass_state *s = edgepass_state_open("/run/edgepass/module.state", err, sizeof err);
 *   if (s == NULL) log(err);                         // fail closed
 *   edgepass_request req = {.uri = ..., .client_ip = ..., .mode = EDGEPASS_ENFORCE};
 *   edgepass_decision d;
 *   edgepass_check(s, &req, &d);
 *   if (d.http_status != 0) refuse(d.http_status, d.reason);   // else forward d.path
 *   if (edgepass_state_changed(s, path)) { reopen, swap on success }
 *   edgepass_state_close(s);
 *
 * CloudFront signed URLs and cookies (docs/cloudfront.md), as the sidecar's
 * --cloudfront-public-keys / --cloudfront-url-base / --cloudfront-route:
 *   edgepass_str prefixes[] = {{"/premium/", 9}};
 *   edgepass_cloudfront *cf = edgepass_cloudfront_open(keys_json_path,
 *       (edgepass_str){"https://cdn.example.com", 23}, prefixes, 1, err, sizeof err);
 *   req.cloudfront = cf; req.path_buf = buf; req.path_buf_len = req.uri.len;
 *
 * Strings are (pointer, length), never NUL-terminated unless said. A state is
 * immutable: any number of threads may check against it; close it only when
 * no check uses it. Nothing here throws or aborts on bad input. */
#ifndef EDGEPASS_CLIENT_NGINX_EDGEPASS_NGINX_H_
#define EDGEPASS_CLIENT_NGINX_EDGEPASS_NGINX_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edgepass_state edgepass_state;

/* Maps the state file read-only and checks it, with the overlay of recent
 * revocation changes next to it ("<path>.overlay") when there is one that
 * amends this state file. NULL on failure, with a NUL-terminated message
 * naming the file and the problem in err. */
edgepass_state *edgepass_state_open(const char *path, char *err, size_t err_len);
void edgepass_state_close(edgepass_state *state);
/* 1 when `path` or its overlay is now another file than the one `state`
 * maps (inode, device, size or mtime differ, or it is gone or appeared), 0
 * otherwise. NULL state: 1 when the state file exists. */
int edgepass_state_changed(const edgepass_state *state, const char *path);
/* Version and revoked count of the state, the overlay's changes included. */
uint64_t edgepass_state_version(const edgepass_state *state);
uint64_t edgepass_state_revoked(const edgepass_state *state);

typedef struct {
  const char *data;
  size_t len;
} edgepass_str;

typedef struct {
  edgepass_str name;
  edgepass_str value;
} edgepass_header;

/* The CloudFront routes: trusted public keys, the URL base resources are
 * signed for and the path prefixes checked as CloudFront instead of as
 * edgepass tokens. Immutable once open. */
typedef struct edgepass_cloudfront edgepass_cloudfront;

/* Reads `keys_path` (the JSON file of the sidecar's --cloudfront-public-keys,
 * {"KEYPAIRID": "-----BEGIN PUBLIC KEY-----..."}), checks `url_base`
 * ("https://HOST[:PORT]") and the prefixes (route prefixes: starting with
 * '/', no dot segments, '//' or escapes; one without a trailing '/' matches
 * at a segment boundary). NULL on failure, with a NUL-terminated message in
 * err naming the file or setting at fault, never key material. */
edgepass_cloudfront *edgepass_cloudfront_open(const char *keys_path, edgepass_str url_base,
                                              const edgepass_str *prefixes, size_t prefix_count,
                                              char *err, size_t err_len);
void edgepass_cloudfront_close(edgepass_cloudfront *cloudfront);
size_t edgepass_cloudfront_key_count(const edgepass_cloudfront *cloudfront);

typedef enum { EDGEPASS_ENFORCE = 0, EDGEPASS_LOG_ONLY = 1, EDGEPASS_OFF = 2 } edgepass_mode;

typedef enum {
  EDGEPASS_ALLOWED = 0,     /* valid token; forward `path` */
  EDGEPASS_DENIED = 1,      /* refuse with http_status and reason */
  EDGEPASS_WOULD_DENY = 2,  /* log-only: forward `path`, log `reason` */
  EDGEPASS_UNCHECKED = 3,   /* mode off: forward `path` */
} edgepass_verdict;

typedef struct {
  edgepass_str uri;        /* the raw request target ($request_uri): path, optional ?query */
  edgepass_str client_ip;  /* $remote_addr */
  const edgepass_header *headers; /* the viewer's headers */
  size_t header_count;
  /* Geo values from a trusted source (geoip2 variables, a trusted CDN's
   * headers); empty = none. The viewer's own CloudFront-Viewer-Country,
   * -Country-Region and -City headers are always ignored. */
  edgepass_str geo_country;
  edgepass_str geo_region;
  edgepass_str geo_city;
  int64_t now_ms;          /* unix milliseconds */
  edgepass_mode mode;
  /* CloudFront routes, or NULL for none. A request whose path (raw, as in
   * uri) is under one of its prefixes is checked as the sidecar checks it
   * (client/validator/cloudfront_check.h): its `path` is then the path plus
   * the viewer's query without CloudFront's parameters, written to path_buf
   * (path_buf_len >= uri.len always suffices). The first header named
   * Cookie (any case) carries the signed cookies. */
  const edgepass_cloudfront *cloudfront;
  char *path_buf;
  size_t path_buf_len;
} edgepass_request;

typedef struct {
  edgepass_verdict verdict;
  int http_status;         /* 0 unless DENIED: 400, 401, 403, 414 (or 500, 503 below) */
  edgepass_str reason;     /* core::ReasonName ("ok" when allowed), or the request error;
                              on CloudFront routes missing_signature or
                              core::CloudFrontReasonName */
  edgepass_str path;       /* origin path (token stripped, no query); views uri.
                              CloudFront routes: path and query, views path_buf */
  edgepass_str session_id; /* views uri; the claimed one when not allowed */
  char kid[72];            /* NUL-terminated; the signing key when allowed, else "" */
  int cloudfront;          /* 1 when the request was on a CloudFront route */
} edgepass_decision;

/* Checks one request. NULL state: DENIED, 503, reason "no_state", except on
 * CloudFront routes, which need no token state. A CloudFront route with
 * path_buf missing or too small: DENIED, 500, "internal_error". Always fills
 * *out. */
void edgepass_check(const edgepass_state *state, const edgepass_request *request,
                    edgepass_decision *out);

#ifdef __cplusplus
}
#endif

#endif /* EDGEPASS_CLIENT_NGINX_EDGEPASS_NGINX_H_ */

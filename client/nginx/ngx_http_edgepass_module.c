/*
 * ngx_http_edgepass_module: validates edgepass tokens inside the nginx
 * workers (docs/nginx-module.md). The state (keyring and revoked sessions)
 * is the file the validator sidecar publishes with --module-state; every
 * worker maps it read-only (one copy in memory however many workers) and
 * looks for a new one, or a new overlay of recent revocation changes next to
 * it (FILE.overlay), at most every edgepass_state_check_interval.
 *
 *   load_module modules/ngx_http_edgepass_module.so;
 *   http {
 *     edgepass_state_file /run/edgepass/module.state;
 *     server {
 *       location / {
 *         edgepass enforce;        # log_only | off
 *         proxy_pass http://origin$edgepass_path$is_args$args;
 *       }
 *     }
 *   }
 *
 * CloudFront signed URLs and cookies on the prefixes listed with
 * edgepass_cloudfront_route, as the sidecar's --cloudfront-* flags:
 *   edgepass_cloudfront_public_keys /etc/edgepass/cloudfront-keys.json;
 *   edgepass_cloudfront_url_base https://cdn.example.com;
 *   edgepass_cloudfront_route /premium/;
 *
 * Refusals answer 401 (missing token) or 403 with X-Edgepass-Reason, 503
 * while no state could be read (fail closed), 400/414 for a request target
 * the sidecar would refuse. Variables: $edgepass_path (origin path, token
 * stripped), $edgepass_session, $edgepass_reason, $edgepass_kid,
 * $edgepass_state_version, $edgepass_state_errors.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/stat.h>

#include "client/nginx/edgepass_nginx.h"

#define NGX_HTTP_EDGEPASS_UNSET    0
#define NGX_HTTP_EDGEPASS_ENFORCE  1
#define NGX_HTTP_EDGEPASS_LOG_ONLY 2
#define NGX_HTTP_EDGEPASS_OFF      3

typedef struct {
    ngx_str_t             state_file;
    ngx_str_t             overlay_file;   /* state_file ".overlay" (module_state.h) */
    ngx_msec_t            check_interval;
    /* CloudFront routes: read at configuration time, shared by the workers
     * through fork (the keys are small and never change at run time). */
    ngx_str_t             cf_keys;
    ngx_str_t             cf_url_base;
    ngx_array_t          *cf_routes;      /* of ngx_str_t */
    edgepass_cloudfront  *cf;
} ngx_http_edgepass_main_conf_t;

typedef struct {
    ngx_uint_t                 mode;
    ngx_http_complex_value_t  *geo_country;
    ngx_http_complex_value_t  *geo_region;
    ngx_http_complex_value_t  *geo_city;
#ifdef EDGEPASS_NGX_TEST_CLOCK
    ngx_http_complex_value_t  *test_now_ms;
#endif
} ngx_http_edgepass_loc_conf_t;

typedef struct {
    ngx_str_t   path;
    ngx_str_t   session;
    ngx_str_t   reason;
    ngx_str_t   kid;
    ngx_int_t   status;    /* what the access phase answered */
} ngx_http_edgepass_ctx_t;

/* Per worker: the mapped state and when the file was last looked at. */
typedef struct {
    edgepass_state  *state;
    ngx_msec_t       checked;
    ngx_uint_t       looked;      /* checked is set */
    struct stat      seen;        /* the file last opened (or failed) */
    ngx_uint_t       seen_valid;
    struct stat      seen_overlay;  /* its overlay then, when present */
    ngx_uint_t       seen_overlay_present;
    ngx_uint_t       errors;      /* unreadable or damaged updates */
    ngx_msec_t       logged_missing;
} ngx_http_edgepass_worker_t;

static ngx_http_edgepass_worker_t  ngx_http_edgepass_worker;

static ngx_int_t ngx_http_edgepass_preconf(ngx_conf_t *cf);
static ngx_int_t ngx_http_edgepass_init(ngx_conf_t *cf);
static void *ngx_http_edgepass_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_edgepass_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_edgepass_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_edgepass_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static ngx_int_t ngx_http_edgepass_init_process(ngx_cycle_t *cycle);
static void ngx_http_edgepass_exit_process(ngx_cycle_t *cycle);

static ngx_conf_enum_t ngx_http_edgepass_modes[] = {
    { ngx_string("enforce"), NGX_HTTP_EDGEPASS_ENFORCE },
    { ngx_string("log_only"), NGX_HTTP_EDGEPASS_LOG_ONLY },
    { ngx_string("off"), NGX_HTTP_EDGEPASS_OFF },
    { ngx_null_string, 0 }
};

static ngx_command_t ngx_http_edgepass_commands[] = {

    { ngx_string("edgepass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edgepass_loc_conf_t, mode),
      &ngx_http_edgepass_modes },

    { ngx_string("edgepass_state_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edgepass_main_conf_t, state_file),
      NULL },

    { ngx_string("edgepass_state_check_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edgepass_main_conf_t, check_interval),
      NULL },

    { ngx_string("edgepass_geo_country"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edgepass_loc_conf_t, geo_country),
      NULL },

    { ngx_string("edgepass_geo_region"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edgepass_loc_conf_t, geo_region),
      NULL },

    { ngx_string("edgepass_geo_city"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edgepass_loc_conf_t, geo_city),
      NULL },

    { ngx_string("edgepass_cloudfront_public_keys"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edgepass_main_conf_t, cf_keys),
      NULL },

    { ngx_string("edgepass_cloudfront_url_base"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edgepass_main_conf_t, cf_url_base),
      NULL },

    { ngx_string("edgepass_cloudfront_route"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_edgepass_main_conf_t, cf_routes),
      NULL },

#ifdef EDGEPASS_NGX_TEST_CLOCK
    /* Test builds only: the clock, in unix milliseconds, from a variable. */
    { ngx_string("edgepass_test_now_ms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_edgepass_loc_conf_t, test_now_ms),
      NULL },
#endif

      ngx_null_command
};

static ngx_http_module_t ngx_http_edgepass_module_ctx = {
    ngx_http_edgepass_preconf,             /* preconfiguration */
    ngx_http_edgepass_init,                /* postconfiguration */
    ngx_http_edgepass_create_main_conf,    /* create main configuration */
    ngx_http_edgepass_init_main_conf,      /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    ngx_http_edgepass_create_loc_conf,     /* create location configuration */
    ngx_http_edgepass_merge_loc_conf       /* merge location configuration */
};

ngx_module_t ngx_http_edgepass_module = {
    NGX_MODULE_V1,
    &ngx_http_edgepass_module_ctx,         /* module context */
    ngx_http_edgepass_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_edgepass_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_edgepass_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_uint_t
ngx_http_edgepass_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino
           && a->st_size == b->st_size
           && a->st_mtim.tv_sec == b->st_mtim.tv_sec
           && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}


/*
 * Opens the state file when it is another file than the one last tried: a
 * good one replaces the mapping, a bad one is logged and counted once and
 * the last good mapping stays. A worker with a state looks at most every
 * check_interval; one without looks on every request, so that it stops
 * refusing with 503 as soon as the sidecar has published.
 */
static void
ngx_http_edgepass_refresh(ngx_log_t *log, ngx_http_edgepass_main_conf_t *mcf,
    ngx_uint_t force)
{
    ngx_http_edgepass_worker_t  *w = &ngx_http_edgepass_worker;
    edgepass_state              *next;
    struct stat                  st, overlay;
    ngx_uint_t                   overlay_present;
    char                         err[512];

    if (!force && w->looked && w->state != NULL
        && ngx_current_msec - w->checked < mcf->check_interval)
    {
        return;
    }

    w->checked = ngx_current_msec;
    w->looked = 1;

    if (stat((const char *) mcf->state_file.data, &st) != 0) {
        if (w->state == NULL
            && (force || ngx_current_msec - w->logged_missing >= 10000))
        {
            w->logged_missing = ngx_current_msec;
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "edgepass: no state file \"%V\"; refusing "
                          "protected requests with 503 until the sidecar "
                          "publishes it", &mcf->state_file);
        }
        return;
    }

    /* A delta changes only the overlay file next to the state file. */
    ngx_memzero(&overlay, sizeof(overlay));
    overlay_present = stat((const char *) mcf->overlay_file.data, &overlay)
                      == 0;

    if (w->seen_valid && ngx_http_edgepass_same_file(&w->seen, &st)
        && overlay_present == w->seen_overlay_present
        && (!overlay_present
            || ngx_http_edgepass_same_file(&w->seen_overlay, &overlay)))
    {
        return;
    }

    w->seen = st;
    w->seen_valid = 1;
    w->seen_overlay = overlay;
    w->seen_overlay_present = overlay_present;

    next = edgepass_state_open((const char *) mcf->state_file.data, err,
                               sizeof(err));
    if (next == NULL) {
        w->errors++;
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "edgepass: %s; %s (state errors: %ui)", err,
                      w->state ? "keeping the last good state"
                               : "refusing protected requests with 503",
                      w->errors);
        return;
    }

    if (w->state != NULL) {
        edgepass_state_close(w->state);
    }
    w->state = next;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "edgepass: state version %uL, %uL revoked sessions, "
                  "from \"%V\"", edgepass_state_version(next),
                  edgepass_state_revoked(next), &mcf->state_file);
}


static ngx_int_t
ngx_http_edgepass_value(ngx_http_request_t *r, ngx_http_complex_value_t *cv,
    edgepass_str *out)
{
    ngx_str_t  v;

    out->data = NULL;
    out->len = 0;
    if (cv == NULL) {
        return NGX_OK;
    }
    if (ngx_http_complex_value(r, cv, &v) != NGX_OK) {
        return NGX_ERROR;
    }
    out->data = (const char *) v.data;
    out->len = v.len;
    return NGX_OK;
}


static ngx_int_t
ngx_http_edgepass_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
    return NGX_OK;
}


static ngx_str_t
ngx_http_edgepass_str(edgepass_str s)
{
    ngx_str_t  v;

    v.data = (u_char *) s.data;
    v.len = s.data ? s.len : 0;
    return v;
}


static ngx_int_t
ngx_http_edgepass_handler(ngx_http_request_t *r)
{
    ngx_http_edgepass_loc_conf_t   *lcf;
    ngx_http_edgepass_main_conf_t  *mcf;
    ngx_http_edgepass_ctx_t        *ctx;
    edgepass_request                req;
    edgepass_decision               d;
    edgepass_header                *headers;
    ngx_list_part_t                *part;
    ngx_table_elt_t                *h;
    ngx_uint_t                      i, n;
    ngx_time_t                     *tp;
    ngx_log_t                       quiet;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_edgepass_module);
    if (lcf->mode == NGX_HTTP_EDGEPASS_UNSET || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_edgepass_module);
    if (ctx != NULL) {
        return ctx->status;     /* the phase runs again (e.g. satisfy) */
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_edgepass_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_edgepass_module);
    ngx_http_edgepass_refresh(r->connection->log, mcf, 0);

    ngx_memzero(&req, sizeof(req));
    req.uri.data = (const char *) r->unparsed_uri.data;
    req.uri.len = r->unparsed_uri.len;
    req.client_ip.data = (const char *) r->connection->addr_text.data;
    req.client_ip.len = r->connection->addr_text.len;
    req.mode = lcf->mode == NGX_HTTP_EDGEPASS_ENFORCE ? EDGEPASS_ENFORCE
               : lcf->mode == NGX_HTTP_EDGEPASS_LOG_ONLY ? EDGEPASS_LOG_ONLY
               : EDGEPASS_OFF;

    if (mcf->cf != NULL) {
        /* $edgepass_path of a CloudFront route: path and query without
         * CloudFront's parameters, never longer than the request target. */
        req.cloudfront = mcf->cf;
        req.path_buf_len = r->unparsed_uri.len;
        req.path_buf = ngx_pnalloc(r->pool, req.path_buf_len + 1);
        if (req.path_buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    n = 0;
    for (part = &r->headers_in.headers.part; part; part = part->next) {
        n += part->nelts;
    }
    headers = ngx_palloc(r->pool, (n ? n : 1) * sizeof(edgepass_header));
    if (headers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    n = 0;
    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            headers[n].name.data = (const char *) h[i].key.data;
            headers[n].name.len = h[i].key.len;
            headers[n].value.data = (const char *) h[i].value.data;
            headers[n].value.len = h[i].value.len;
            n++;
        }
    }
    req.headers = headers;
    req.header_count = n;

    if (ngx_http_edgepass_value(r, lcf->geo_country, &req.geo_country)
            != NGX_OK
        || ngx_http_edgepass_value(r, lcf->geo_region, &req.geo_region)
            != NGX_OK
        || ngx_http_edgepass_value(r, lcf->geo_city, &req.geo_city) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tp = ngx_timeofday();
    req.now_ms = (int64_t) tp->sec * 1000 + tp->msec;
#ifdef EDGEPASS_NGX_TEST_CLOCK
    if (lcf->test_now_ms != NULL) {
        edgepass_str  v;

        if (ngx_http_edgepass_value(r, lcf->test_now_ms, &v) == NGX_OK
            && v.len > 0)
        {
            req.now_ms = ngx_atoof((u_char *) v.data, v.len);
        }
    }
#endif

    edgepass_check(ngx_http_edgepass_worker.state, &req, &d);

    ctx->path = ngx_http_edgepass_str(d.path);
    ctx->session = ngx_http_edgepass_str(d.session_id);
    ctx->reason = ngx_http_edgepass_str(d.reason);
    ctx->kid.len = ngx_strlen(d.kid);
    if (ctx->kid.len) {
        ctx->kid.data = ngx_pnalloc(r->pool, ctx->kid.len);
        if (ctx->kid.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_memcpy(ctx->kid.data, d.kid, ctx->kid.len);
    }
    ngx_http_set_ctx(r, ctx, ngx_http_edgepass_module);

    /* Our lines go without nginx's request context: the request line holds
     * the token or the CloudFront signature, which are never logged. */
    quiet = *r->connection->log;
    quiet.handler = NULL;
    quiet.data = NULL;

    switch (d.verdict) {

    case EDGEPASS_ALLOWED:
    case EDGEPASS_UNCHECKED:
        ctx->status = NGX_OK;
        break;

    case EDGEPASS_WOULD_DENY:
        ngx_log_error(NGX_LOG_WARN, &quiet, 0,
                      "edgepass: would deny (log_only): %V, path \"%V\", "
                      "session \"%V\", client %V", &ctx->reason, &ctx->path,
                      &ctx->session, &r->connection->addr_text);
        if (ngx_http_edgepass_add_header(r, "X-Edgepass-Would-Deny",
                                         &ctx->reason) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ctx->status = NGX_OK;
        break;

    default:
        ngx_log_error(NGX_LOG_INFO, &quiet, 0,
                      "edgepass: refused (%i): %V, client %V",
                      (ngx_int_t) d.http_status, &ctx->reason,
                      &r->connection->addr_text);
        if (ngx_http_edgepass_add_header(r, "X-Edgepass-Reason", &ctx->reason)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ctx->status = d.http_status;
        break;
    }

    return ctx->status;
}


typedef enum {
    NGX_HTTP_EDGEPASS_VAR_PATH = 0,
    NGX_HTTP_EDGEPASS_VAR_SESSION,
    NGX_HTTP_EDGEPASS_VAR_REASON,
    NGX_HTTP_EDGEPASS_VAR_KID
} ngx_http_edgepass_var_e;


static ngx_int_t
ngx_http_edgepass_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_edgepass_ctx_t  *ctx;
    ngx_str_t                *s;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_edgepass_module);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {
    case NGX_HTTP_EDGEPASS_VAR_PATH:    s = &ctx->path; break;
    case NGX_HTTP_EDGEPASS_VAR_SESSION: s = &ctx->session; break;
    case NGX_HTTP_EDGEPASS_VAR_REASON:  s = &ctx->reason; break;
    default:                            s = &ctx->kid; break;
    }

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}


static ngx_int_t
ngx_http_edgepass_state_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_edgepass_main_conf_t  *mcf;
    u_char                         *p;

    /* Also where no location checks tokens (e.g. a status location). */
    mcf = ngx_http_get_module_main_conf(r, ngx_http_edgepass_module);
    if (mcf->state_file.len) {
        ngx_http_edgepass_refresh(r->connection->log, mcf, 0);
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (data == 0) {
        v->len = ngx_sprintf(p, "%uL",
                     edgepass_state_version(ngx_http_edgepass_worker.state))
                 - p;
    } else {
        v->len = ngx_sprintf(p, "%ui", ngx_http_edgepass_worker.errors) - p;
    }

    v->data = p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}


static ngx_http_variable_t ngx_http_edgepass_vars[] = {
    { ngx_string("edgepass_path"), NULL, ngx_http_edgepass_variable,
      NGX_HTTP_EDGEPASS_VAR_PATH, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("edgepass_session"), NULL, ngx_http_edgepass_variable,
      NGX_HTTP_EDGEPASS_VAR_SESSION, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("edgepass_reason"), NULL, ngx_http_edgepass_variable,
      NGX_HTTP_EDGEPASS_VAR_REASON, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("edgepass_kid"), NULL, ngx_http_edgepass_variable,
      NGX_HTTP_EDGEPASS_VAR_KID, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("edgepass_state_version"), NULL,
      ngx_http_edgepass_state_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("edgepass_state_errors"), NULL,
      ngx_http_edgepass_state_variable, 1, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    ngx_http_null_variable
};


static ngx_int_t
ngx_http_edgepass_preconf(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_edgepass_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }
    return NGX_OK;
}


static ngx_int_t
ngx_http_edgepass_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_edgepass_handler;
    return NGX_OK;
}


static void *
ngx_http_edgepass_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_edgepass_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edgepass_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    conf->check_interval = NGX_CONF_UNSET_MSEC;
    conf->cf_routes = NGX_CONF_UNSET_PTR;
    return conf;
}


static void
ngx_http_edgepass_close_cloudfront(void *data)
{
    edgepass_cloudfront_close(data);
}


/*
 * The CloudFront routes, checked and their keys read now, so that a bad
 * key file fails `nginx -t` and the start with the sidecar's message.
 */
static char *
ngx_http_edgepass_open_cloudfront(ngx_conf_t *cf,
    ngx_http_edgepass_main_conf_t *mcf)
{
    ngx_str_t           *routes;
    edgepass_str        *prefixes;
    edgepass_str         base;
    ngx_pool_cleanup_t  *cln;
    ngx_uint_t           i, n;
    u_char              *path;
    char                 err[512];

    n = mcf->cf_routes == NGX_CONF_UNSET_PTR || mcf->cf_routes == NULL
        ? 0 : mcf->cf_routes->nelts;
    if (mcf->cf_keys.len == 0 && mcf->cf_url_base.len == 0 && n == 0) {
        return NGX_CONF_OK;
    }
    if (mcf->cf_keys.len == 0 || mcf->cf_url_base.len == 0 || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "edgepass_cloudfront_public_keys, "
                           "edgepass_cloudfront_url_base and "
                           "edgepass_cloudfront_route go together");
        return NGX_CONF_ERROR;
    }
    if (ngx_conf_full_name(cf->cycle, &mcf->cf_keys, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    path = ngx_pnalloc(cf->pool, mcf->cf_keys.len + 1);
    prefixes = ngx_palloc(cf->pool, n * sizeof(edgepass_str));
    if (path == NULL || prefixes == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_memcpy(path, mcf->cf_keys.data, mcf->cf_keys.len);
    path[mcf->cf_keys.len] = '\0';
    routes = mcf->cf_routes->elts;
    for (i = 0; i < n; i++) {
        prefixes[i].data = (const char *) routes[i].data;
        prefixes[i].len = routes[i].len;
    }
    base.data = (const char *) mcf->cf_url_base.data;
    base.len = mcf->cf_url_base.len;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }
    mcf->cf = edgepass_cloudfront_open((const char *) path, base, prefixes, n,
                                       err, sizeof(err));
    if (mcf->cf == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }
    cln->handler = ngx_http_edgepass_close_cloudfront;
    cln->data = mcf->cf;
    return NGX_CONF_OK;
}


static char *
ngx_http_edgepass_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_edgepass_main_conf_t  *mcf = conf;
    u_char                         *p;

    ngx_conf_init_msec_value(mcf->check_interval, 50);

    if (ngx_http_edgepass_open_cloudfront(cf, mcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (mcf->state_file.len == 0) {
        return NGX_CONF_OK;     /* no location may use edgepass then */
    }
    if (ngx_conf_full_name(cf->cycle, &mcf->state_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    /* NUL-terminated for stat() and open(). */
    p = ngx_pnalloc(cf->pool, mcf->state_file.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_memcpy(p, mcf->state_file.data, mcf->state_file.len);
    p[mcf->state_file.len] = '\0';
    mcf->state_file.data = p;
    mcf->overlay_file.len = mcf->state_file.len + sizeof(".overlay") - 1;
    p = ngx_pnalloc(cf->pool, mcf->overlay_file.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_memcpy(ngx_cpymem(p, mcf->state_file.data, mcf->state_file.len),
               ".overlay", sizeof(".overlay"));
    mcf->overlay_file.data = p;
    return NGX_CONF_OK;
}


static void *
ngx_http_edgepass_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_edgepass_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_edgepass_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    conf->mode = NGX_CONF_UNSET_UINT;
    conf->geo_country = NGX_CONF_UNSET_PTR;
    conf->geo_region = NGX_CONF_UNSET_PTR;
    conf->geo_city = NGX_CONF_UNSET_PTR;
#ifdef EDGEPASS_NGX_TEST_CLOCK
    conf->test_now_ms = NGX_CONF_UNSET_PTR;
#endif
    return conf;
}


static char *
ngx_http_edgepass_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_edgepass_loc_conf_t   *prev = parent;
    ngx_http_edgepass_loc_conf_t   *conf = child;
    ngx_http_edgepass_main_conf_t  *mcf;

    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_EDGEPASS_UNSET);
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_edgepass_module);
    if (conf->mode != NGX_HTTP_EDGEPASS_UNSET && mcf->state_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"edgepass\" needs \"edgepass_state_file\" in the "
                           "http block (the file the sidecar's --module-state "
                           "writes)");
        return NGX_CONF_ERROR;
    }
    ngx_conf_merge_ptr_value(conf->geo_country, prev->geo_country, NULL);
    ngx_conf_merge_ptr_value(conf->geo_region, prev->geo_region, NULL);
    ngx_conf_merge_ptr_value(conf->geo_city, prev->geo_city, NULL);
#ifdef EDGEPASS_NGX_TEST_CLOCK
    ngx_conf_merge_ptr_value(conf->test_now_ms, prev->test_now_ms, NULL);
#endif
    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_edgepass_init_process(ngx_cycle_t *cycle)
{
    ngx_http_edgepass_main_conf_t  *mcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_edgepass_module);
    if (mcf == NULL || mcf->state_file.len == 0) {
        return NGX_OK;
    }

    ngx_memzero(&ngx_http_edgepass_worker, sizeof(ngx_http_edgepass_worker));
    ngx_http_edgepass_refresh(cycle->log, mcf, 1);
    return NGX_OK;
}


static void
ngx_http_edgepass_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_edgepass_worker.state != NULL) {
        edgepass_state_close(ngx_http_edgepass_worker.state);
        ngx_http_edgepass_worker.state = NULL;
    }
}

/*
 * The module list nginx's `make modules` would generate
 * (objs/ngx_http_edgepass_module_modules.c): what `load_module` reads from the
 * shared object to find and order its modules.
 */
#include <ngx_config.h>
#include <ngx_core.h>

extern ngx_module_t ngx_http_edgepass_module;

ngx_module_t *ngx_modules[] = {
    &ngx_http_edgepass_module,
    NULL
};

char *ngx_module_names[] = {
    "ngx_http_edgepass_module",
    NULL
};

char *ngx_module_order[] = {
    NULL
};

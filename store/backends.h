/* The constructors of core/backends.def, declared from the table: a new backend's file
 * defines its constructor and needs no header of its own for open.c or the module. */
#ifndef WC_STORE_BACKENDS_H
#define WC_STORE_BACKENDS_H

#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

typedef wc_store *(*wc_backend_open_fn)(const struct wc_config *c, int *err, char *errbuf,
                                        size_t errlen);

#define WC_BACKEND(kind, scheme, alias, constructor, where, cmd)                                   \
    wc_store *constructor(const struct wc_config *c, int *err, char *errbuf, size_t errlen);
#include "core/backends.def"
#undef WC_BACKEND

#endif

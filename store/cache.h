/* The cache layer between the runner and a store: what a manifest means. A lookup reads
 * key1's manifest, checks that it is key1's, matches its input sets against the files and
 * the environment now, and fetches the entry the matching set names; a record adds the
 * input set of an observed run to key1's manifest. The caller never sees a manifest line:
 * it gets a verdict, and says what it means (report.c). Nothing here prints. */
#ifndef WC_STORE_CACHE_H
#define WC_STORE_CACHE_H

#include "hashing/basedir.h"
#include "hashing/hash.h"
#include "hashing/manifest.h"
#include "hashing/memo.h"
#include "hashing/signature.h"
#include "store/entry.h"
#include "store/store.h"

/* What a lookup found, from the best (an entry restored) to the ones where the command
 * runs. From WC_VERDICT_GONE on, a set matched and result names its entry. */
enum wc_verdict {
    WC_VERDICT_HIT,          /* the entry is restored: meta, out and err are filled */
    WC_VERDICT_MATCH,        /* the entry exists (a lookup without fetch: nothing restored) */
    WC_VERDICT_NO_MANIFEST,  /* no manifest: key1 was never stored, or it was trimmed */
    WC_VERDICT_BAD_MANIFEST, /* unreadable, garbage or someone else's: rc says why */
    WC_VERDICT_NO_MATCH,     /* no recorded input set holds now: manifest kept for explain */
    WC_VERDICT_GONE,         /* a set matches, but its entry is gone (trimmed or cleared) */
    WC_VERDICT_CORRUPT,      /* ... its entry was corrupt, and has been removed */
    WC_VERDICT_NO_OUTDIR,    /* ... an output directory is missing or a symbolic link */
    WC_VERDICT_UNREPLAYABLE, /* ... its stdout or stderr names a base dir: not served here */
    WC_VERDICT_FAILED,       /* ... it could not be restored: rc says why */
};

/* What a lookup is matched and restored against. */
struct wc_lookup_ctx {
    const wc_basedirs *primary; /* the base dir manifest paths are relative to */
    wc_memo *memo;
    char *const *envp;              /* the command's environment */
    const char *root;               /* outputs are restored relative to it */
    const struct wc_declared *decl; /* what the command declares it writes, or NULL */
    const char *replay_dir;         /* the base dir the recorded streams are marked with */
    int fetch;                      /* 0: only tell whether the entry exists (--explain) */
};

struct wc_lookup {
    enum wc_verdict verdict;
    int rc;                           /* BAD_MANIFEST, FAILED: the -errno */
    char result[WC_HASH_HEX_LEN + 1]; /* GONE and after, HIT, MATCH: the entry's key */
    wc_manifest manifest;             /* NO_MATCH: the sets that did not match */
    struct wc_entry_meta meta;        /* HIT */
    struct wc_stream out, err;        /* HIT: stdout and stderr, ready to replay */
};

/* Look key1 (hex) up in s. A tier whose local manifest has no matching set asks its remote
 * one (DESIGN.md): another machine may have stored this command's inputs since the local
 * copy was made (not when ctx->fetch is 0). A hit marks the manifest used (LRU). Returns
 * l->verdict; l is freeable (wc_lookup_free) whatever it is. */
enum wc_verdict wc_cache_lookup(wc_store *s, const char *key1, const struct wc_lookup_ctx *ctx,
                                struct wc_lookup *l);
void wc_lookup_free(struct wc_lookup *l);

/* The manifest of key1 (hex) in s, if s has one that really is key1's. 0 or -errno (m is
 * then empty): -ENOENT when there is none, -EINVAL when it is garbage or another key's. */
int wc_cache_manifest(wc_store *s, const char *key1, wc_manifest *m);

/* The key of the entry that stores a run with input set `set`: its result key (kept in
 * set->result) in hex. */
void wc_cache_result(const wc_key1 *k1, struct wc_mf_set *set, char hex[WC_HASH_HEX_LEN + 1]);

/* A run's recorded stdout and stderr (*out, *err: malloc'd or NULL) with the base dir dir
 * marked (replay.h), replaced in place, so that another checkout's hit replays its own. 0 or
 * -ENOMEM (then unchanged). */
int wc_cache_mark_streams(const char *dir, char **out, size_t *out_len, char **err,
                          size_t *err_len);

/* Add set (moved into it) to the manifest of k1 in s, read again just before writing it:
 * another build may have added a set since the lookup. A manifest that is garbage or
 * another key's is replaced. 0 or -errno. */
int wc_cache_record(wc_store *s, const wc_key1 *k1, struct wc_mf_set *set);

#endif

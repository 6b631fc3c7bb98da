/* The cache layer: a lookup (read key1's manifest, check it, match a set, fetch its entry)
 * and a record (add a set to key1's manifest). See cache.h. */
#include "store/cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashing/replay.h"
#include "store/tier.h"

/* ---- reading a manifest ------------------------------------------------------------------- */

/* The manifest of key1 in s, checked to be key1's; its text in *text when asked (malloc'd,
 * for a copy to another store). 0 or -errno, m then empty. */
static int read_checked(wc_store *s, const char *key1, wc_manifest *m, char **text, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    wc_hash want;
    memset(m, 0, sizeof *m);
    int rc = s->read(s, key1, "manifest", WC_MANIFEST_MAX_LEN, &buf, &n);
    if (rc == 0)
        rc = wc_manifest_decode(buf, n, m);
    if (rc == 0 && (wc_hash_from_hex(key1, &want) < 0 || !wc_hash_equal(&m->k1.key, &want))) {
        wc_manifest_free(m); /* someone else's */
        rc = -EINVAL;
    }
    if (rc == 0 && text) {
        *text = buf, *len = n;
        buf = NULL;
    }
    free(buf);
    return rc;
}

int wc_cache_manifest(wc_store *s, const char *key1, wc_manifest *m)
{
    return read_checked(s, key1, m, NULL, NULL);
}

/* ---- lookup ------------------------------------------------------------------------------- */

static int is_tier(const wc_store *s)
{
    return s->name && strcmp(s->name, "tier") == 0;
}

/* The remote manifest of a tier whose local one has no matching set. On a match the local
 * tier gets the newer manifest too (best effort). 0 with *res, or -errno. */
static int ask_remote(wc_store *tier, const char *key1, const struct wc_lookup_ctx *ctx,
                      wc_hash *res)
{
    wc_manifest m;
    char *text = NULL;
    size_t len = 0;
    int rc = read_checked(wc_store_side(tier, WC_STORE_REMOTE), key1, &m, &text, &len);
    if (rc == 0) {
        if (wc_manifest_lookup(&m, ctx->primary, ctx->memo, ctx->envp, NULL, res) < 0)
            rc = -ENOENT;
        wc_manifest_free(&m);
    }
    if (rc == 0) {
        wc_store *local = wc_store_side(tier, WC_STORE_LOCAL);
        local->write(local, key1, "manifest", text, len);
    }
    free(text);
    return rc;
}

/* The recorded streams with this checkout's base dir in place of the recording one. 0, or
 * -EINVAL when a stream names a base dir and this command has none: the hit is refused. */
static int unmark_streams(const char *dir, struct wc_stream *out, struct wc_stream *err)
{
    /* A stream above WC_STREAM_INLINE_MAX is replayed from a file, never held in memory: its
     * marks cannot be replaced on the way, so such a hit is refused (the command runs). */
    if (out->fd >= 0 || err->fd >= 0)
        return -EFBIG;
    char *o = NULL, *e = NULL;
    size_t ol = 0, el = 0;
    int rc = wc_replay_unmark(out->buf ? out->buf : "", out->len, dir, &o, &ol);
    if (rc == 0)
        rc = wc_replay_unmark(err->buf ? err->buf : "", err->len, dir, &e, &el);
    free(out->buf);
    free(err->buf);
    out->buf = o, out->len = ol;
    err->buf = e, err->len = el;
    if (rc < 0)
        free(o), free(e), out->buf = err->buf = NULL, out->len = err->len = 0;
    return rc;
}

/* The entry of the matching set (l->result), restored; or, without ctx->fetch, whether it
 * exists. */
static enum wc_verdict fetch(wc_store *s, const struct wc_lookup_ctx *ctx, struct wc_lookup *l)
{
    if (!ctx->fetch)
        return s->exists(s, l->result, "meta") == 0 ? WC_VERDICT_MATCH : WC_VERDICT_GONE;
    int rc = wc_entry_fetch(s, l->result, ctx->root, ctx->decl, &l->meta, &l->out, &l->err);
    if (rc == 0 && unmark_streams(ctx->replay_dir, &l->out, &l->err) < 0) {
        wc_stream_free(&l->out);
        wc_stream_free(&l->err);
        wc_meta_free(&l->meta);
        return WC_VERDICT_UNREPLAYABLE;
    }
    l->rc = rc;
    switch (rc) {
    case 0:
        return WC_VERDICT_HIT;
    case -EBADMSG:
        /* Never served, and removed so that the next run stores it again. */
        s->remove(s, l->result);
        return WC_VERDICT_CORRUPT;
    case -ENOTDIR:
        return WC_VERDICT_NO_OUTDIR; /* the real command decides what it means (gcc fails) */
    case -ENOENT:
        return WC_VERDICT_GONE;
    default:
        return WC_VERDICT_FAILED;
    }
}

/* Match key1's manifest (read into l->manifest); then the tier's remote one. 0 with *res. */
static int match(wc_store *s, const struct wc_lookup_ctx *ctx, struct wc_lookup *l,
                 const char *key1, wc_hash *res)
{
    if (wc_manifest_lookup(&l->manifest, ctx->primary, ctx->memo, ctx->envp, NULL, res) >= 0)
        return 0;
    return ctx->fetch && is_tier(s) ? ask_remote(s, key1, ctx, res) : -ENOENT;
}

enum wc_verdict wc_cache_lookup(wc_store *s, const char *key1, const struct wc_lookup_ctx *ctx,
                                struct wc_lookup *l)
{
    wc_hash res;
    memset(l, 0, sizeof *l);
    l->out = l->err = (struct wc_stream){.fd = -1};
    l->rc = read_checked(s, key1, &l->manifest, NULL, NULL);
    if (l->rc < 0)
        l->verdict = l->rc == -ENOENT ? WC_VERDICT_NO_MANIFEST : WC_VERDICT_BAD_MANIFEST;
    else if (match(s, ctx, l, key1, &res) < 0)
        l->verdict = WC_VERDICT_NO_MATCH;
    else {
        wc_manifest_free(&l->manifest);
        wc_hash_to_hex(&res, l->result);
        l->verdict = fetch(s, ctx, l);
    }
    /* wc_entry_fetch refreshed the entry itself; the manifest is key1's own. */
    if (l->verdict == WC_VERDICT_HIT)
        s->touch(s, key1);
    return l->verdict;
}

void wc_lookup_free(struct wc_lookup *l)
{
    wc_manifest_free(&l->manifest);
    wc_meta_free(&l->meta);
    wc_stream_free(&l->out);
    wc_stream_free(&l->err);
}

/* ---- record ------------------------------------------------------------------------------- */

void wc_cache_result(const wc_key1 *k1, struct wc_mf_set *set, char hex[WC_HASH_HEX_LEN + 1])
{
    wc_result_key(&k1->key, set, NULL, &set->result);
    wc_hash_to_hex(&set->result, hex);
}

int wc_cache_mark_streams(const char *dir, char **out, size_t *out_len, char **err, size_t *err_len)
{
    char *o = NULL, *e = NULL;
    size_t ol = 0, el = 0;
    int rc = wc_replay_mark(*out ? *out : "", *out_len, dir, &o, &ol);
    if (rc == 0)
        rc = wc_replay_mark(*err ? *err : "", *err_len, dir, &e, &el);
    if (rc < 0) {
        free(o);
        return rc;
    }
    free(*out);
    free(*err);
    *out = o, *out_len = ol;
    *err = e, *err_len = el;
    return 0;
}

int wc_cache_record(wc_store *s, const wc_key1 *k1, struct wc_mf_set *set)
{
    char key1[WC_HASH_HEX_LEN + 1];
    wc_manifest m;
    char *text = NULL;
    size_t len = 0;
    int rc = -ENOMEM;
    wc_hash_to_hex(&k1->key, key1);
    read_checked(s, key1, &m, NULL, NULL); /* none, garbage or another key's: replaced */
    if (wc_manifest_set_key1(&m, k1) == 0) {
        wc_manifest_add(&m, set);
        text = wc_manifest_encode(&m, &len);
    }
    if (text)
        rc = s->write(s, key1, "manifest", text, len);
    free(text);
    wc_manifest_free(&m);
    return rc;
}

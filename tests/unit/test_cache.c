/* The cache layer (store/cache.c) on a directory store and on a tier of two: a lookup's
 * verdicts (no manifest, garbage, another key's manifest, no matching set, a hit, an entry
 * gone or corrupt, the tier's remote manifest asked) and a record. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "store/cache.h"
#include "store/dir.h"
#include "store/tier.h"

static char tmp[64];
static char src[PATH_MAX]; /* the checkout: the base dir, outputs restored relative to it */
static wc_basedirs bd;
static wc_key1 k1;
static char key1[WC_HASH_HEX_LEN + 1];

static const char *tpath(const char *name)
{
    static char buf[4][PATH_MAX];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmp, name);
    return buf[i];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    static char *argv[] = {"gcc", "-c", "x.c", "-o", "x.o", NULL};
    snprintf(tmp, sizeof tmp, "/tmp/wc-test-cache.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(src, sizeof src, "%s/src", tmp);
    ck_assert_int_eq(wc_mkdir_p(src, 0755), 0);
    ck_assert_int_eq(wc_basedirs_parse(&bd, src, "/nonexistent-home"), 0);
    write_file(tpath("src/x.c"), "int x;\n");
    write_file(tpath("src/x.o"), "object x");
    memset(&k1, 0, sizeof k1);
    k1.argc = 5;
    k1.argv = argv;
    k1.cwd = "@WAFCACHE_BASEDIR@";
    k1.key.hi = 7;
    wc_hash_to_hex(&k1.key, key1);
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    wc_basedirs_free(&bd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static wc_store *open_dir(const char *name)
{
    struct wc_dir_options opt = {.hardlink = 0, .dir_mode = 0700};
    int err = 0;
    wc_store *s = wc_dir_open(tpath(name), &opt, &err);
    ck_assert_msg(s != NULL, "wc_dir_open: %s", strerror(-err));
    return s;
}

/* The set of a run that read x.c (as it is now). */
static void make_set(struct wc_mf_set *set)
{
    memset(set, 0, sizeof *set);
    set->inputs = calloc(1, sizeof *set->inputs);
    set->n_inputs = 1;
    set->inputs[0].path = wc_mf_path_store(&bd, tpath("src/x.c"));
    ck_assert_int_eq(wc_memo_hash(NULL, tpath("src/x.c"), &set->inputs[0].hash, NULL, NULL), 0);
}

/* Record the run (x.c read, x.o written) in s: its set in the manifest, its entry (unless
 * entry is 0). The entry's key in result. */
static void record_run(wc_store *s, int entry, char result[WC_HASH_HEX_LEN + 1])
{
    struct wc_mf_set set;
    make_set(&set);
    wc_result_key(&k1.key, &set, NULL, &set.result); /* as the runner records it */
    wc_hash_to_hex(&set.result, result);
    ck_assert_int_eq(wc_cache_record(s, &k1, &set), 0);
    wc_mf_set_free(&set);
    if (!entry)
        return;
    struct wc_output out = {.path = "x.o"};
    struct wc_entry_meta meta = {.run_ns = 5, .n_outputs = 1, .outputs = &out};
    ck_assert_int_eq(wc_entry_push(s, result, src, &meta, "said\n", 5, NULL, 0), 0);
}

static enum wc_verdict lookup(wc_store *s, int fetch, struct wc_lookup *l)
{
    struct wc_lookup_ctx ctx = {.primary = &bd,
                                .memo = NULL,
                                .envp = NULL,
                                .root = src,
                                .decl = NULL,
                                .replay_dir = src,
                                .fetch = fetch};
    return wc_cache_lookup(s, key1, &ctx, l);
}

START_TEST(no_manifest)
{
    wc_store *s = open_dir("cache");
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_NO_MANIFEST);
    ck_assert_int_eq(l.rc, -ENOENT);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

START_TEST(hit_restores)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 1, result);
    ck_assert_int_eq(unlink(tpath("src/x.o")), 0);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_HIT);
    ck_assert_str_eq(l.result, result);
    ck_assert_uint_eq(l.meta.n_outputs, 1);
    ck_assert_uint_eq(l.out.len, 5);
    ck_assert_int_eq(memcmp(l.out.buf, "said\n", 5), 0);
    ck_assert_int_eq(access(tpath("src/x.o"), F_OK), 0);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

/* Without fetch (--explain) a match is told, nothing restored. */
START_TEST(match_without_fetch)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 1, result);
    ck_assert_int_eq(unlink(tpath("src/x.o")), 0);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 0, &l), WC_VERDICT_MATCH);
    ck_assert_str_eq(l.result, result);
    ck_assert_int_eq(access(tpath("src/x.o"), F_OK), -1);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

START_TEST(no_match_keeps_manifest)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 1, result);
    write_file(tpath("src/x.c"), "int y;\n");
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_NO_MATCH);
    ck_assert_uint_eq(l.manifest.n_sets, 1);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

/* Another key's manifest under key1's name is unusable, and a record replaces it. */
START_TEST(key1_mismatch)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1], other[WC_HASH_HEX_LEN + 1];
    record_run(s, 0, result);
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(s->read(s, key1, "manifest", WC_MANIFEST_MAX_LEN, &text, &len), 0);
    memcpy(other, key1, sizeof other);
    key1[0] = key1[0] == '0' ? '1' : '0';
    ck_assert_int_eq(s->write(s, key1, "manifest", text, len), 0);
    free(text);

    struct wc_lookup l;
    wc_manifest m;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_BAD_MANIFEST);
    ck_assert_int_eq(l.rc, -EINVAL);
    wc_lookup_free(&l);
    ck_assert_int_eq(wc_cache_manifest(s, key1, &m), -EINVAL);
    ck_assert_int_eq(wc_cache_manifest(s, other, &m), 0);
    wc_manifest_free(&m);
    s->close(s);
}
END_TEST

START_TEST(corrupt_manifest)
{
    wc_store *s = open_dir("cache");
    ck_assert_int_eq(s->write(s, key1, "manifest", "wafcache-manifest 3\nnonsense\n", 29), 0);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_BAD_MANIFEST);
    ck_assert_int_eq(l.rc, -EINVAL);
    wc_lookup_free(&l);

    /* The miss then writes a good one in its place. */
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 1, result);
    ck_assert_int_eq(lookup(s, 0, &l), WC_VERDICT_MATCH);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

/* A manifest is stored compressed (zstd frame); one stored as text before that still hits,
 * and the next record writes it compressed. */
START_TEST(manifest_stored_compressed_text_still_read)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 1, result);
    char *buf = NULL;
    size_t n = 0;
    ck_assert_int_eq(s->read(s, key1, "manifest", WC_MANIFEST_MAX_LEN, &buf, &n), 0);
    ck_assert_uint_ge(n, 4);
    ck_assert_int_eq(memcmp(buf, "\x28\xb5\x2f\xfd", 4), 0);
    wc_manifest m;
    ck_assert_int_eq(wc_manifest_decode(buf, n, &m), 0);
    free(buf);
    size_t tlen;
    char *text = wc_manifest_format(&m, &tlen);
    ck_assert_int_eq(s->write(s, key1, "manifest", text, tlen), 0);
    free(text);
    wc_manifest_free(&m);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 0, &l), WC_VERDICT_MATCH);
    ck_assert_str_eq(l.result, result);
    wc_lookup_free(&l);
    /* Damaged compressed bytes: a bad manifest, never a crash, and a miss rewrites it. */
    ck_assert_int_eq(s->write(s, key1, "manifest", "\x28\xb5\x2f\xfd\x00\x58\x01\x00", 8), 0);
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_BAD_MANIFEST);
    wc_lookup_free(&l);
    record_run(s, 1, result);
    ck_assert_int_eq(lookup(s, 0, &l), WC_VERDICT_MATCH);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

START_TEST(entry_gone)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 0, result);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_GONE);
    ck_assert_str_eq(l.result, result);
    wc_lookup_free(&l);
    ck_assert_int_eq(lookup(s, 0, &l), WC_VERDICT_GONE);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

/* A corrupt entry is never served, and removed so that the next run stores it again. */
START_TEST(entry_corrupt_removed)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1];
    record_run(s, 1, result);
    ck_assert_int_eq(s->write(s, result, "0", "not object x", 12), 0);
    ck_assert_int_eq(unlink(tpath("src/x.o")), 0);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_CORRUPT);
    ck_assert_int_eq(l.rc, -EBADMSG);
    ck_assert_int_eq(s->exists(s, result, "meta"), -ENOENT);
    ck_assert_int_eq(access(tpath("src/x.o"), F_OK), -1);
    wc_lookup_free(&l);
    s->close(s);
}
END_TEST

/* A second run with other inputs adds its set in front of the first. */
START_TEST(record_adds_a_set)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1], second[WC_HASH_HEX_LEN + 1];
    record_run(s, 0, result);
    write_file(tpath("src/x.c"), "int y;\n");
    record_run(s, 0, second);
    ck_assert_str_ne(result, second);
    wc_manifest m;
    ck_assert_int_eq(wc_cache_manifest(s, key1, &m), 0);
    ck_assert_uint_eq(m.n_sets, 2);
    wc_hash want;
    ck_assert_int_eq(wc_hash_from_hex(second, &want), 0);
    ck_assert(wc_hash_equal(&m.sets[0].result, &want));
    wc_manifest_free(&m);
    s->close(s);
}
END_TEST

/* A tier whose local manifest has no matching set asks the remote one, and keeps it. */
START_TEST(tier_asks_remote)
{
    wc_store *local = open_dir("local"), *remote = open_dir("remote");
    char old[WC_HASH_HEX_LEN + 1], result[WC_HASH_HEX_LEN + 1];
    write_file(tpath("src/x.c"), "int old;\n");
    record_run(local, 0, old);
    write_file(tpath("src/x.c"), "int x;\n");
    record_run(remote, 1, result);
    ck_assert_int_eq(unlink(tpath("src/x.o")), 0);

    wc_store *tier = wc_tier_open(local, remote);
    ck_assert_ptr_nonnull(tier);
    struct wc_lookup l;
    ck_assert_int_eq(lookup(tier, 0, &l), WC_VERDICT_NO_MATCH); /* --explain: not asked */
    wc_lookup_free(&l);
    ck_assert_int_eq(lookup(tier, 1, &l), WC_VERDICT_HIT);
    ck_assert_str_eq(l.result, result);
    wc_lookup_free(&l);

    wc_manifest m;
    ck_assert_int_eq(wc_cache_manifest(local, key1, &m), 0);
    ck_assert_uint_eq(m.n_sets, 1);
    wc_hash want;
    ck_assert_int_eq(wc_hash_from_hex(result, &want), 0);
    ck_assert(wc_hash_equal(&m.sets[0].result, &want));
    wc_manifest_free(&m);
    tier->close(tier);
}
END_TEST

/* Streams are recorded with the base dir marked, and a hit replays them with its own. */
START_TEST(streams_marked_then_replayed_here)
{
    wc_store *s = open_dir("cache");
    char result[WC_HASH_HEX_LEN + 1], said[PATH_MAX + 32], *err = NULL;
    struct wc_mf_set set;
    snprintf(said, sizeof said, "%s/x.c: warning\n", src);
    char *out = strdup(said);
    size_t out_len = strlen(out), err_len = 0;
    ck_assert_int_eq(wc_cache_mark_streams(src, &out, &out_len, &err, &err_len), 0);
    ck_assert_ptr_null(memmem(out, out_len, src, strlen(src)));

    make_set(&set);
    wc_cache_result(&k1, &set, result);
    struct wc_output o = {.path = "x.o"};
    struct wc_entry_meta meta = {.n_outputs = 1, .outputs = &o};
    ck_assert_int_eq(wc_entry_push(s, result, src, &meta, out, out_len, err, err_len), 0);
    ck_assert_int_eq(wc_cache_record(s, &k1, &set), 0);
    wc_mf_set_free(&set);

    struct wc_lookup l;
    ck_assert_int_eq(lookup(s, 1, &l), WC_VERDICT_HIT);
    ck_assert_str_eq(l.result, result);
    ck_assert_uint_eq(l.out.len, strlen(said));
    ck_assert_int_eq(memcmp(l.out.buf, said, l.out.len), 0);
    wc_lookup_free(&l);
    free(out);
    free(err);
    s->close(s);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("lookup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, no_manifest);
    tcase_add_test(tc, hit_restores);
    tcase_add_test(tc, match_without_fetch);
    tcase_add_test(tc, no_match_keeps_manifest);
    tcase_add_test(tc, key1_mismatch);
    tcase_add_test(tc, corrupt_manifest);
    tcase_add_test(tc, manifest_stored_compressed_text_still_read);
    tcase_add_test(tc, entry_gone);
    tcase_add_test(tc, entry_corrupt_removed);
    tcase_add_test(tc, record_adds_a_set);
    tcase_add_test(tc, tier_asks_remote);
    tcase_add_test(tc, streams_marked_then_replayed_here);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cache_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

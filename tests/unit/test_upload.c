/* The runner's asynchronous uploads (preload/runner/upload.c, compiled in): the per-user
 * temporary directory, upload slots, stages (private, or a tier's local side), copying a
 * staged entry to a remote store ("meta" last), and the detached uploader. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "preload/runner/runner.h"
#include "preload/session.h"
#include "store/dir.h"
#include "store/tier.h"

static char tmp[64];

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
    snprintf(tmp, sizeof tmp, "/tmp/wc-test-upload.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    unsetenv(WC_ENV_UPLOADS);
}

static void teardown(void)
{
    char cmd[128];
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

START_TEST(user_tmp_dir)
{
    char dir[PATH_MAX], want[PATH_MAX];
    struct stat st;
    snprintf(want, sizeof want, "%s/wafcache-%u", tmp, (unsigned)getuid());
    ck_assert_int_eq(wc_user_tmp_dir(dir, sizeof dir), 0);
    ck_assert_str_eq(dir, want);
    ck_assert_int_eq(lstat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_int_eq(wc_user_tmp_dir(dir, sizeof dir), 0); /* again: it is ours */
    ck_assert_int_eq(wc_user_tmp_dir(dir, 8), -ENAMETOOLONG);
}
END_TEST

/* Something else in its place (a file, a link to a directory) is refused. */
START_TEST(user_tmp_dir_not_ours)
{
    char dir[PATH_MAX], name[64];
    snprintf(name, sizeof name, "wafcache-%u", (unsigned)getuid());
    write_file(tpath(name), "");
    ck_assert_int_eq(wc_user_tmp_dir(dir, sizeof dir), -EPERM);
    ck_assert_int_eq(unlink(tpath(name)), 0);
    ck_assert_int_eq(mkdir(tpath("elsewhere"), 0700), 0);
    ck_assert_int_eq(symlink(tpath("elsewhere"), tpath(name)), 0);
    ck_assert_int_eq(wc_user_tmp_dir(dir, sizeof dir), -EPERM);
}
END_TEST

START_TEST(slots_are_bounded)
{
    struct wc_config c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(wc_upload_slot(&c), -1); /* synchronous uploads */
    c.async_workers = 2;
    int a = wc_upload_slot(&c), b = wc_upload_slot(&c);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, 0);
    ck_assert_int_eq(wc_upload_slot(&c), -1); /* all busy */
    close(a);
    int again = wc_upload_slot(&c);
    ck_assert_int_ge(again, 0);
    close(again);
    close(b);
}
END_TEST

/* The build's slot directory; none when this process is the build's top-level one. */
START_TEST(slots_of_the_build)
{
    struct wc_config c;
    char value[PATH_MAX + 32];
    memset(&c, 0, sizeof c);
    c.async_workers = 1;
    ck_assert_int_eq(mkdir(tpath("build-slots"), 0700), 0);
    snprintf(value, sizeof value, "%ld:%s", (long)getppid(), tpath("build-slots"));
    setenv(WC_ENV_UPLOADS, value, 1);
    int slot = wc_upload_slot(&c);
    ck_assert_int_ge(slot, 0);
    ck_assert_int_eq(access(tpath("build-slots/slot-0"), F_OK), 0);
    close(slot);
    snprintf(value, sizeof value, "%ld:%s", (long)getpid(), tpath("build-slots"));
    setenv(WC_ENV_UPLOADS, value, 1);
    ck_assert_int_eq(wc_upload_slot(&c), -1);
}
END_TEST

START_TEST(private_stage)
{
    struct wc_config c;
    struct wc_stage st;
    char dir[PATH_MAX];
    memset(&c, 0, sizeof c);
    wc_store *s = open_dir("cache");
    ck_assert_int_eq(wc_stage_open(&c, s, &st), 0);
    ck_assert_int_eq(st.private_dir, 1);
    ck_assert_int_eq(wc_user_tmp_dir(dir, sizeof dir), 0);
    ck_assert_int_eq(strncmp(st.root, dir, strlen(dir)), 0);
    ck_assert_int_eq(access(st.root, F_OK), 0);
    ck_assert_int_eq(st.store->write(st.store, "0123456789abcdef0123456789abcdef", "x", "x", 1), 0);
    wc_stage_close(&st, 1);
    ck_assert_int_eq(access(st.root, F_OK), -1);
    s->close(s);
}
END_TEST

/* A tier's local side is the stage: it stays. */
START_TEST(tier_stage)
{
    struct wc_config c;
    struct wc_stage st;
    memset(&c, 0, sizeof c);
    char *local = strdup(tpath("local"));
    c.local = local;
    wc_store *tier = wc_tier_open(open_dir("local"), open_dir("remote"));
    ck_assert_ptr_nonnull(tier);
    ck_assert_int_eq(wc_stage_open(&c, tier, &st), 0);
    ck_assert_int_eq(st.private_dir, 0);
    ck_assert_ptr_eq(st.store, wc_tier_local(tier));
    ck_assert_str_eq(st.root, local);
    wc_stage_close(&st, 1);
    ck_assert_int_eq(access(local, F_OK), 0);
    tier->close(tier);
    free(local);
}
END_TEST

#define KEY "fedcba9876543210fedcba9876543210"

/* An entry staged with its outputs and stdout, as a miss stages it. */
static void stage_entry(wc_store *stage, struct wc_entry_meta *m, struct wc_output *outs)
{
    ck_assert_int_eq(mkdir(tpath("src"), 0755), 0);
    write_file(tpath("src/a.o"), "object a");
    write_file(tpath("src/b.d"), "a.o: a.c\n");
    outs[0] = (struct wc_output){.path = "a.o"};
    outs[1] = (struct wc_output){.path = "b.d"};
    *m = (struct wc_entry_meta){.run_ns = 1, .n_outputs = 2, .outputs = outs};
    ck_assert_int_eq(wc_entry_push(stage, KEY, tpath("src"), m, "said\n", 5, NULL, 0), 0);
}

START_TEST(upload_copies_the_entry)
{
    struct wc_output outs[2];
    struct wc_entry_meta m, back;
    struct wc_stream out, err;
    wc_store *stage = open_dir("stage"), *remote = open_dir("remote");
    stage_entry(stage, &m, outs);
    ck_assert_int_eq(wc_upload_entry(remote, tpath("stage"), KEY, &m), 0);
    ck_assert_int_eq(remote->exists(remote, KEY, "stderr"), -ENOENT); /* none was recorded */
    ck_assert_int_eq(unlink(tpath("src/a.o")), 0);
    ck_assert_int_eq(wc_entry_fetch(remote, KEY, tpath("src"), NULL, &back, &out, &err), 0);
    ck_assert_uint_eq(back.n_outputs, 2);
    ck_assert_uint_eq(out.len, 5);
    ck_assert_int_eq(access(tpath("src/a.o"), F_OK), 0);
    wc_meta_free(&back);
    wc_stream_free(&out);
    wc_stream_free(&err);
    stage->close(stage);
    remote->close(remote);
}
END_TEST

/* A staged file missing: the upload stops there, and the remote never gets "meta". */
START_TEST(upload_cut_short_leaves_no_entry)
{
    struct wc_output outs[2];
    struct wc_entry_meta m;
    char path[PATH_MAX];
    wc_store *stage = open_dir("stage"), *remote = open_dir("remote");
    stage_entry(stage, &m, outs);
    snprintf(path, sizeof path, "%s/%.2s/%s/1", tpath("stage"), KEY, KEY);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_lt(wc_upload_entry(remote, tpath("stage"), KEY, &m), 0);
    ck_assert_int_eq(remote->exists(remote, KEY, "0"), 0);
    ck_assert_int_eq(remote->exists(remote, KEY, "meta"), -ENOENT);
    stage->close(stage);
    remote->close(remote);
}
END_TEST

/* The uploader is detached (nobody's child) and holds the slot until it ends. */
START_TEST(uploader_holds_the_slot)
{
    struct wc_config c;
    memset(&c, 0, sizeof c);
    c.async_workers = 1;
    char done[PATH_MAX];
    snprintf(done, sizeof done, "%s", tpath("done"));
    int slot = wc_upload_slot(&c);
    ck_assert_int_ge(slot, 0);
    int forked = wc_upload_fork(slot);
    if (forked == 0) {
        usleep(200 * 1000);
        FILE *f = fopen(done, "w");
        if (f)
            fclose(f);
        _exit(0);
    }
    ck_assert_int_eq(forked, 1);
    ck_assert_int_eq(wc_upload_slot(&c), -1); /* the uploader has it */
    int slot2 = -1;
    for (int i = 0; i < 500 && slot2 < 0; i++) {
        usleep(10 * 1000);
        slot2 = access(done, F_OK) == 0 ? wc_upload_slot(&c) : -1;
    }
    ck_assert_int_ge(slot2, 0);
    close(slot2);
}
END_TEST

static Suite *upload_suite(void)
{
    Suite *s = suite_create("upload");
    TCase *tc = tcase_create("upload");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, user_tmp_dir);
    tcase_add_test(tc, user_tmp_dir_not_ours);
    tcase_add_test(tc, slots_are_bounded);
    tcase_add_test(tc, slots_of_the_build);
    tcase_add_test(tc, private_stage);
    tcase_add_test(tc, tier_stage);
    tcase_add_test(tc, upload_copies_the_entry);
    tcase_add_test(tc, upload_cut_short_leaves_no_entry);
    tcase_add_test(tc, uploader_holds_the_slot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(upload_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Asynchronous uploads (WAFCACHE_ASYNC_WORKERS, DESIGN.md "Background work must not hold the
 * build"). On a miss the runner first stores the entry in a local directory store -- the
 * tier's local side, or a private staging directory -- because the build may overwrite or
 * delete the outputs as soon as the runner exits. It then takes one of N upload slots (a
 * lock file, flock'ed), and hands the slot to a detached process that copies the staged
 * entry to the remote store, "meta" last, then updates the remote manifest. The build's
 * top-level process (preload/session.c) waits for the build's slots to be released at its
 * end by taking each lock in turn. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "preload/runner.h"
#include "preload/session.h"

int wc_user_tmp_dir(char *buf, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    struct stat st;

    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(buf, n, "%s/wafcache-%u", tmp, (unsigned)getuid()) >= n)
        return -ENAMETOOLONG;
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -errno;
    /* In a shared /tmp, a directory of someone else's could feed us markers or stages. */
    if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
        return -EPERM;
    return 0;
}

void wc_detach(int keep_fd)
{
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    int first = 3;
    if (keep_fd >= 0) {
        /* The slot lock stays held as long as this process lives: keep it, as fd 3. */
        if (keep_fd != 3 && dup2(keep_fd, 3) < 0)
            _exit(1);
        first = 4;
    }
    if (syscall(SYS_close_range, first, ~0U, 0) < 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = first; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close((int)fd);
    }
}

/* The build's slot directory (WAFCACHE_UPLOADS, made by its top-level process), or a
 * per-user one when the build will not wait (NOWAIT, or a runner started outside a preloaded
 * build). NULL when this runner is the top-level process itself: nobody would wait for it. */
static const char *slot_dir(char *buf, size_t n)
{
    const char *v = getenv(WC_ENV_UPLOADS);
    const char *path = wc_session_path(v);

    if (path) {
        if (strtol(v, NULL, 10) == (long)getpid())
            return NULL;
        snprintf(buf, n, "%s", path);
        return buf;
    }
    if (wc_user_tmp_dir(buf, n) < 0 || strlen(buf) + 10 >= n)
        return NULL;
    strcat(buf, "/uploads");
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return NULL;
    return buf;
}

int wc_upload_slot(const struct wc_config *c)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];

    if (c->async_workers == 0 || !slot_dir(dir, sizeof dir))
        return -1;
    for (unsigned i = 0; i < c->async_workers; i++) {
        snprintf(path, sizeof path, "%s/slot-%u", dir, i);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return -1;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        close(fd);
    }
    return -1; /* all busy: the caller uploads itself, which paces the build to N uploads */
}

int wc_upload_fork(int slot)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* The first child exits at once: the uploader is nobody's child to wait for. */
        pid_t up = fork();
        if (up == 0) {
            wc_detach(slot);
            return 0;
        }
        _exit(up < 0 ? 1 : 0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(slot); /* the uploader holds the lock now (a flock belongs to the open file) */
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 1 : -1;
}

static int stage_file(const char *root, const char *key, const char *name, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s/%.2s/%s/%s", root, key, key, name);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int upload_one(wc_store *remote, const char *root, const char *key, const char *name)
{
    char path[PATH_MAX];
    int rc = stage_file(root, key, name, path, sizeof path);
    return rc < 0 ? rc : remote->put(remote, key, name, path);
}

int wc_upload_entry(wc_store *remote, const char *root, const char *key,
                    const struct wc_entry_meta *meta)
{
    char name[32];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < meta->n_outputs; i++) {
        snprintf(name, sizeof name, "%zu", i);
        rc = upload_one(remote, root, key, name);
    }
    if (rc == 0 && meta->stdout_size)
        rc = upload_one(remote, root, key, "stdout");
    if (rc == 0 && meta->stderr_size)
        rc = upload_one(remote, root, key, "stderr");
    /* Last, as in wc_entry_push: an upload cut short leaves no entry, only orphan files. */
    return rc == 0 ? upload_one(remote, root, key, "meta") : rc;
}

int wc_stage_open(const struct wc_config *c, wc_store *store, struct wc_stage *st)
{
    struct wc_dir_options opt = {0, 0700};
    char dir[PATH_MAX];
    int err = 0;

    memset(st, 0, sizeof *st);
    if (c->local && strcmp(store->name, "tier") == 0) {
        /* The local tier keeps the entry anyway: it is the stage. */
        st->store = wc_tier_local(store);
        snprintf(st->root, sizeof st->root, "%s", c->local);
        return 0;
    }
    if (wc_user_tmp_dir(dir, sizeof dir) < 0 ||
        (size_t)snprintf(st->root, sizeof st->root, "%s/stage-XXXXXX", dir) >= sizeof st->root ||
        !mkdtemp(st->root))
        return -EIO;
    st->store = wc_dir_open(st->root, &opt, &err);
    if (!st->store) {
        rmdir(st->root);
        return err;
    }
    st->private_dir = 1;
    return 0;
}

void wc_stage_close(struct wc_stage *st, int remove)
{
    if (!st->private_dir)
        return;
    if (st->store)
        st->store->close(st->store);
    st->store = NULL;
    if (remove)
        wc_rm_rf(st->root);
}

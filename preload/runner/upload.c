/* Asynchronous uploads (WAFCACHE_ASYNC_WORKERS, DESIGN.md "Background work must not hold the
 * build"). On a miss the runner first stores the entry in a local directory store -- the
 * tier's local side, or a private staging directory -- because the build may overwrite or
 * delete the outputs as soon as the runner exits. It then takes one of N upload slots (a
 * lock file, flock'ed), and hands the slot to a detached process that copies the staged
 * entry to the remote store, "meta" last, then updates the remote manifest. The build's
 * top-level process (preload/lib/session.c) waits for the build's slots to be released at its
 * end by taking each lock in turn.
 *
 * A private staging directory is flock'ed by whoever owns it (the runner, then the uploader):
 * an uploader that was killed leaves its directory unlocked, and the next uploader sweeps it
 * (sweep_stale), as it does build slot directories whose top-level process was killed. */
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "preload/runner/runner.h"
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

/* An unlocked private stage younger than this may be one a runner has just made and not yet
 * locked (mkdtemp, then flock): left alone. */
#define STAGE_GRACE_S 10
/* Whatever its locks say, a stage or a build's slot directory this old is garbage: uploads
 * are bounded by their requests' timeouts, and a flock may not work on every TMPDIR. */
#define STALE_S 3600

/* The lock on this runner's (or uploader's) private stage, -1 without one. */
static int stage_lock = -1;

/* Keeps keep[0..n) as fds 3, 4, ... (their locks stay held as long as this process lives)
 * and closes everything else above stderr. */
static void detach_keeping(const int *keep, int n)
{
    int tmp[2];

    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    /* Out of the way first: a kept fd may sit where another one goes. */
    for (int i = 0; i < n; i++)
        if ((tmp[i] = fcntl(keep[i], F_DUPFD, 16)) < 0)
            _exit(1);
    for (int i = 0; i < n; i++)
        if (dup2(tmp[i], 3 + i) < 0)
            _exit(1);
    int first = 3 + n; /* the temporary copies, above, are closed with the rest */
    if (syscall(SYS_close_range, first, ~0U, 0) < 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = first; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close((int)fd);
    }
}

void wc_detach(int keep_fd)
{
    detach_keeping(&keep_fd, keep_fd >= 0 ? 1 : 0);
}

/* 1 when nobody holds path's lock (the sweeper takes it for a moment, then lets go). */
static int unlocked(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    int free_ = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;

    if (fd >= 0)
        close(fd);
    return free_;
}

/* A build's slot directory whose top-level process is gone (killed: it never waited) and
 * whose slots nobody holds. A long build loses nothing when its directory goes: a runner
 * that finds no slot uploads itself, and the top-level's wait finds nothing to wait for. */
static int slots_stale(const char *path)
{
    char slot[PATH_MAX];
    DIR *d = opendir(path);
    struct dirent *e;
    int stale = d != NULL;

    while (stale && (e = readdir(d)))
        if (strncmp(e->d_name, "slot-", 5) == 0 &&
            (size_t)snprintf(slot, sizeof slot, "%s/%s", path, e->d_name) < sizeof slot) {
            int fd = open(slot, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            stale = fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0;
            if (fd >= 0)
                close(fd);
        }
    if (d)
        closedir(d);
    return stale;
}

/* Removes what killed uploaders and builds left in dir: entries named prefix* that are
 * directories of ours and either older than STALE_S or, for stages, unlocked and older than
 * the grace. */
static void sweep_in(const char *dir, const char *prefix, int is_stage)
{
    char path[PATH_MAX];
    size_t plen = strlen(prefix);
    time_t now = time(NULL);
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, plen) != 0 ||
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
            lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
            continue;
        time_t age = now - st.st_mtime;
        int stale = is_stage ? age > STALE_S || (age > STAGE_GRACE_S && unlocked(path))
                             : age > STALE_S && slots_stale(path);
        if (stale)
            wc_rm_rf(path);
    }
    closedir(d);
}

/* In a new uploader, in the background: private stages of killed uploaders, and slot
 * directories of killed builds, which nothing else would ever remove. */
static void sweep_stale(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];

    if (wc_user_tmp_dir(dir, sizeof dir) == 0)
        sweep_in(dir, "stage-", 1);
    sweep_in(tmp && tmp[0] == '/' ? tmp : "/tmp", "wafcache-uploads-", 0);
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
            /* The slot and the stage's lock stay held until this uploader is done or dies. */
            int keep[2] = {slot, stage_lock};
            detach_keeping(keep, stage_lock >= 0 ? 2 : 1);
            if (stage_lock >= 0)
                stage_lock = 4;
            sweep_stale();
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
    wc_store *local = wc_store_side(store, WC_STORE_LOCAL);
    if (c->local && local && local != store) {
        /* The local tier keeps the entry anyway: it is the stage. (A directory is its own
         * local side: only a tier has one inside.) */
        st->store = local;
        snprintf(st->root, sizeof st->root, "%s", c->local);
        return 0;
    }
    if (wc_user_tmp_dir(dir, sizeof dir) < 0 ||
        (size_t)snprintf(st->root, sizeof st->root, "%s/stage-XXXXXX", dir) >= sizeof st->root ||
        !mkdtemp(st->root))
        return -EIO;
    /* Locked as long as a process of ours works on it (see sweep_stale). */
    stage_lock = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (stage_lock >= 0 && flock(stage_lock, LOCK_EX | LOCK_NB) != 0) {
        close(stage_lock);
        stage_lock = -1;
    }
    st->store = wc_dir_open(st->root, &opt, &err);
    if (!st->store) {
        rmdir(st->root);
        if (stage_lock >= 0)
            close(stage_lock);
        stage_lock = -1;
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
    /* After the removal: a sweeper must not take a directory still being emptied. */
    if (stage_lock >= 0)
        close(stage_lock);
    stage_lock = -1;
}

/* The progress line of long maintenance work (--trim, -C, --verify), as ccache shows one. */
#include "core/util.h"
#include "cli/cli.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Ten updates a second are enough for the eye and cost nothing next to the work. */
#define PROGRESS_EVERY_NS 100000000LL

void cli_progress_start(struct cli_progress *p, const char *what)
{
    memset(p, 0, sizeof(*p));
    p->what = what;
    /* On a terminal only: a log or a pipe must get the summary alone. */
    p->on = isatty(STDERR_FILENO);
    p->last_pct = -1;
}

void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total)
{
    int64_t now;
    int pct;

    if (!p->on || total == 0)
        return;
    pct = done >= total ? 100 : (int)(done * 100 / total);
    now = wc_now_ns();
    if (pct == p->last_pct || (p->last_pct >= 0 && now - p->last_ns < PROGRESS_EVERY_NS))
        return;
    p->last_pct = pct;
    p->last_ns = now;
    fprintf(stderr, "\r%s: %3d%%", p->what, pct);
    fflush(stderr);
}

void cli_progress_erase(struct cli_progress *p)
{
    if (p->on && p->last_pct >= 0) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    p->last_pct = -1;
}

void cli_progress_end(struct cli_progress *p)
{
    /* The line is erased: what stays on the terminal is the summary on stdout. */
    cli_progress_erase(p);
    p->on = 0;
}

/* The names in directory dir that pass keep, without a stat each: a progress total. */
static uint64_t count_names(const char *dir, int (*keep)(const char *))
{
    DIR *d = opendir(dir);
    uint64_t n = 0;

    if (!d)
        return 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += de->d_name[0] != '.' && keep(de->d_name);
    closedir(d);
    return n;
}

int cli_is_bucket(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

static int any_entry(const char *name)
{
    return strstr(name, ".remove.") == NULL && strstr(name, ".wctmp.") == NULL;
}

uint64_t cli_count_entries(const char *dir, uint64_t *buckets)
{
    DIR *d = opendir(dir);
    char path[4096];
    uint64_t n = 0, b = 0;

    if (d) {
        for (struct dirent *de; (de = readdir(d)) != NULL;) {
            if (!cli_is_bucket(de->d_name))
                continue;
            b++;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            n += count_names(path, any_entry);
        }
        closedir(d);
    }
    if (buckets)
        *buckets = b;
    return n;
}

/* The `wafcache` command line (SPEC §7).
 *
 *   wafcache [--] COMMAND ARGS...   run a build with libwafcache.so preloaded, or, when COMMAND
 *                                   is itself a cached program (CC="wafcache gcc",
 *                                   CMAKE_C_COMPILER_LAUNCHER=wafcache), hand that one command
 *                                   to the runner;
 *   wafcache OPTION                 one of the actions of the table below.
 *
 * Actions are options (as ccache's -s, -z, -C), not words, so that no action name can ever
 * shadow a build command: `wafcache stats` runs a program called stats. A new action is one
 * function and one line in the table. */
#include "core/config.h"
#include "core/programs.h"
#include "core/util.h"
#include "cli/cli.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wordexp.h>

#define LIBNAME "libwafcache.so"
#define RUNNER "wafcache-run"

struct action {
    const char *short_opt;             /* "-p", or NULL */
    const char *long_opt;              /* "--show-config" */
    const char *arg;                   /* "SIZE" for an option that takes a value, or NULL */
    const char *help;                  /* one line for --help */
    int (*run)(int argc, char **argv); /* argv[0] is the option as typed */
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_explain(int argc, char **argv);

static const struct action actions[] = {
    {"-s", "--show-stats", NULL, "show the statistics (add --json for JSON)", cmd_show_stats},
    {NULL, "--json", NULL, "show the statistics as JSON", cmd_json},
    {"-z", "--zero-stats", NULL, "zero the statistics", cmd_zero_stats},
    {"-p", "--show-config", NULL, "show every setting, its value and where it comes from",
     cmd_show_config},
    {"-k", "--get-config", "KEY", "print the value of setting KEY", cmd_get_config},
    {"-o", "--set-config", "KEY=VALUE", "set KEY to VALUE in wafcache.conf", cmd_set_config},
    {"-M", "--max-size", "SIZE", "keep at most SIZE on disk (10G, 500M; 5 is 5G; 0: no limit)",
     cmd_max_size},
    {"-F", "--max-files", "N", "keep at most N results (0: no limit)", cmd_max_files},
    {NULL, "--trim", NULL, "evict least recently used entries down to the limits, now", cmd_trim},
    {"-C", "--clear", NULL, "remove every entry (the settings and statistics stay)", cmd_clear},
    {NULL, "--verify", NULL, "check every entry's content, remove the broken ones", cmd_verify},
    {NULL, "--explain", "COMMAND", "say why COMMAND would miss (or that it would hit)",
     cmd_explain},
    {"-h", "--help", NULL, "show this help", cmd_help},
    {"-V", "--version", NULL, "show the version", cmd_version},
};

#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

/* ---- help, version ---- */

static void usage(FILE *out)
{
    fprintf(out, "Usage: wafcache [-d DIR] OPTION\n"
                 "       wafcache [-d DIR] [--] COMMAND [ARG]...\n"
                 "\n"
                 "Run COMMAND (a build tool: make, ninja, waf...) with the wafcache library\n"
                 "preloaded, so that the compilers and linkers it runs are cached. When COMMAND\n"
                 "is itself a cached program (CC=\"wafcache gcc\", "
                 "CMAKE_C_COMPILER_LAUNCHER=wafcache),\n"
                 "run that one command through the cache.\n"
                 "\n"
                 "Options:\n");
    for (size_t i = 0; i < NACTIONS; i++) {
        char opt[64];
        snprintf(opt, sizeof(opt), "%s%s%s%s%s", actions[i].short_opt ? actions[i].short_opt : "",
                 actions[i].short_opt ? ", " : "    ", actions[i].long_opt,
                 actions[i].arg ? " " : "", actions[i].arg ? actions[i].arg : "");
        fprintf(out, "  %-28s %s\n", opt, actions[i].help);
    }
    fprintf(out, "  %-28s %s\n", "-d, --dir DIR",
            "use the cache in DIR (before the option or the command)");
    fprintf(out, "\n"
                 "Settings come from the environment, then from wafcache.conf in the cache\n"
                 "directory, then from the defaults: WAFCACHE (the cache directory or URL),\n"
                 "WAFCACHE_NO_PUSH, WAFCACHE_VERBOSITY, WAFCACHE_EXPLAIN... `wafcache -p` lists\n"
                 "them all. WAFCACHE_LIBDIR overrides where libwafcache.so is looked for.\n"
                 "\n"
                 "Exit status: 0 ok, 1 usage error, 2 cache error; a command run through\n"
                 "wafcache exits with its own status. See wafcache(1).\n");
}

static int cmd_help(int argc, char **argv)
{
    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    usage(stdout);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    printf("wafcache %s\n", WAFCACHE_VERSION);
    return 0;
}

/* ---- finding the library ---- */

static int has_library(const char *dir)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/" LIBNAME, dir) >= (int)sizeof(path))
        return 0;
    return access(path, F_OK) == 0;
}

/* "../lib/<multiarch>/wafcache", as GNUInstallDirs lays out a /usr install on Debian. */
static int find_multiarch(const char *bindir, char *out)
{
    char pattern[PATH_MAX];
    glob_t g;
    int found = 0;

    if (snprintf(pattern, sizeof(pattern), "%s/../lib/*/wafcache", bindir) >= (int)sizeof(pattern))
        return 0;
    if (glob(pattern, GLOB_ONLYDIR, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc && !found; i++)
        if (has_library(g.gl_pathv[i]) && realpath(g.gl_pathv[i], out) != NULL)
            found = 1;
    globfree(&g);
    return found;
}

/* "<bindir>/<rel>" when it holds the library, made canonical into out. */
static int find_relative(const char *bindir, const char *rel, char *out)
{
    char cand[PATH_MAX];

    if (snprintf(cand, sizeof(cand), "%s/%s", bindir, rel) >= (int)sizeof(cand))
        return 0;
    return has_library(cand) && realpath(cand, out) != NULL;
}

/* The directory holding libwafcache.so and wafcache-run, canonical, into out (PATH_MAX).
 * WAFCACHE_LIBDIR wins; otherwise it is found from this executable, where CMake puts it in
 * both the build tree and the install tree. Returns 0, or -1 with why in err. */
static int find_libdir(char *out, char *err, size_t errlen)
{
    const char *env = getenv("WAFCACHE_LIBDIR");
    char bindir[PATH_MAX];
    int rc;

    if (env && *env) {
        if (realpath(env, out) != NULL && has_library(out))
            return 0;
        snprintf(err, errlen, "WAFCACHE_LIBDIR=\"%s\" holds no " LIBNAME, env);
        return -1;
    }
    if ((rc = wc_self_dir(bindir, sizeof bindir)) < 0) {
        snprintf(err, errlen, "cannot read /proc/self/exe: %s", strerror(-rc));
        return -1;
    }
    if (find_relative(bindir, "../lib/wafcache", out) || find_multiarch(bindir, out) ||
        find_relative(bindir, "../lib64/wafcache", out))
        return 0;
    snprintf(err, errlen, "no " LIBNAME " in %s/../lib/wafcache (set WAFCACHE_LIBDIR)", bindir);
    return -1;
}

/* ---- running a command ---- */

/* Exec failed: say so as a shell would, with its exit codes. */
static int exec_failed(const char *cmd, int err)
{
    if (err == ENOENT && strchr(cmd, '/') == NULL) {
        fprintf(stderr, "wafcache: %s: command not found\n", cmd);
        return 127;
    }
    fprintf(stderr, "wafcache: %s: %s\n", cmd, strerror(err));
    return err == ENOENT ? 127 : 126;
}

/* Is entry (one LD_PRELOAD word) the library at lib? Compared canonically, so that
 * "/x/bin/../lib/wafcache/libwafcache.so" is not loaded twice. */
static int same_library(const char *entry, const char *lib)
{
    char real[PATH_MAX];

    if (strcmp(entry, lib) == 0)
        return 1;
    return realpath(entry, real) != NULL && strcmp(real, lib) == 0;
}

static int preload_has(const char *list, const char *lib)
{
    char *copy = strdup(list), *save = NULL, *word;
    int found = 0;

    if (copy == NULL)
        return 0;
    /* ld.so splits LD_PRELOAD on spaces and colons. */
    for (word = strtok_r(copy, " :", &save); word && !found; word = strtok_r(NULL, " :", &save))
        found = same_library(word, lib);
    free(copy);
    return found;
}

/* Append lib to LD_PRELOAD: what is there stays first and is never replaced. */
static int add_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    char *val;
    int rc;

    if (old && *old && preload_has(old, lib))
        return 0;
    if (old && *old)
        rc = asprintf(&val, "%s:%s", old, lib);
    else
        rc = asprintf(&val, "%s", lib);
    if (rc < 0)
        return -1;
    rc = setenv("LD_PRELOAD", val, 1);
    free(val);
    return rc;
}

/* The executable execvp would run for name, into out (PATH_MAX): glibc's rules (an empty
 * PATH element is the current directory; no PATH means /bin:/usr/bin). Returns 0 or an
 * errno: ENOENT, or EACCES when only non-executable candidates exist. */
static int find_on_path(const char *name, char *out)
{
    const char *path = getenv("PATH");
    int err = ENOENT;

    if (strchr(name, '/') != NULL) {
        if (access(name, X_OK) != 0)
            return errno;
        snprintf(out, PATH_MAX, "%s", name);
        return 0;
    }
    if (path == NULL)
        path = "/bin:/usr/bin";
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        int dirlen = (int)(end - p);
        struct stat st;
        if (snprintf(out, PATH_MAX, "%.*s%s%s", dirlen, p, dirlen ? "/" : "", name) < PATH_MAX &&
            stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            err = EACCES;
        }
        if (*end == '\0')
            return err;
        p = end;
    }
}

/* A cached program: `<libdir>/wafcache-run <path> <argv...>`, the runner's convention. */
static int run_through_runner(const char *libdir, char **argv)
{
    char path[PATH_MAX], runner[PATH_MAX + 32];
    int argc = 0, err;
    char **rargv;

    if ((err = find_on_path(argv[0], path)) != 0)
        return exec_failed(argv[0], err);
    while (argv[argc])
        argc++;
    rargv = calloc((size_t)argc + 3, sizeof(*rargv));
    if (rargv == NULL) {
        fprintf(stderr, "wafcache: out of memory\n");
        return 126;
    }
    snprintf(runner, sizeof(runner), "%s/" RUNNER, libdir);
    rargv[0] = runner;
    rargv[1] = path;
    memcpy(rargv + 2, argv, (size_t)argc * sizeof(*argv));
    execv(runner, rargv);
    /* The cache must never fail the build: run the command itself. */
    fprintf(stderr, "wafcache: cannot run %s: %s; running %s without the cache\n", runner,
            strerror(errno), argv[0]);
    free(rargv);
    execv(path, argv);
    return exec_failed(argv[0], errno);
}

static int run_preloaded(const char *libdir, char **argv)
{
    char lib[PATH_MAX + 32];

    snprintf(lib, sizeof(lib), "%s/" LIBNAME, libdir);
    /* LD_PRELOAD has no quoting: such a path would be cut into pieces by ld.so. */
    if (strpbrk(lib, " :") != NULL)
        fprintf(stderr,
                "wafcache: %s has a space or colon, which LD_PRELOAD cannot hold; "
                "running without the cache\n",
                lib);
    else if (add_preload(lib) < 0)
        fprintf(stderr, "wafcache: cannot set LD_PRELOAD: %s; running without the cache\n",
                strerror(errno));
    execvp(argv[0], argv);
    return exec_failed(argv[0], errno);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int run_command(char **argv)
{
    char libdir[PATH_MAX], err[PATH_MAX + 128];

    if (argv[0] == NULL)
        return cli_usage("no command given");
    if (find_libdir(libdir, err, sizeof(err)) < 0) {
        fprintf(stderr, "wafcache: %s; running %s without the cache\n", err, argv[0]);
        execvp(argv[0], argv);
        return exec_failed(argv[0], errno);
    }
    if (wc_program_matches(getenv("WAFCACHE_PROGRAMS"), base_name(argv[0])))
        return run_through_runner(libdir, argv);
    return run_preloaded(libdir, argv);
}

/* ---- --explain ---- */

/* Hands the command to the runner in its explain mode, which computes the signature exactly
 * as a build would, looks it up and prints what it finds, running and restoring nothing. */
static int explain_exec(char **cmd)
{
    struct wc_config c;
    char libdir[PATH_MAX], err[PATH_MAX + 128], path[PATH_MAX], runner[PATH_MAX + 32];
    const char *dir;
    int rc, argc = 0;
    char **rargv;

    if (!wc_program_matches(getenv("WAFCACHE_PROGRAMS"), base_name(cmd[0])))
        return cli_usage("--explain: %s is not a cached program (see WAFCACHE_PROGRAMS)", cmd[0]);
    if ((rc = cli_load(&c)) == 0)
        rc = cli_cache_dir(&c, "--explain", 1, &dir);
    wc_config_free(&c);
    if (rc != 0)
        return rc;
    if (find_libdir(libdir, err, sizeof(err)) < 0)
        return cli_fail("%s", err);
    if ((rc = find_on_path(cmd[0], path)) != 0)
        return cli_fail("%s: %s", cmd[0], rc == ENOENT ? "command not found" : strerror(rc));
    while (cmd[argc])
        argc++;
    if (!(rargv = calloc((size_t)argc + 4, sizeof(*rargv))))
        return cli_fail("out of memory");
    snprintf(runner, sizeof(runner), "%s/" RUNNER, libdir);
    rargv[0] = runner;
    rargv[1] = "--explain";
    rargv[2] = path;
    memcpy(rargv + 3, cmd, (size_t)argc * sizeof(*cmd));
    fflush(stdout);
    execv(runner, rargv);
    rc = cli_fail("cannot run %s: %s", runner, strerror(errno));
    free(rargv);
    return rc;
}

/* `--explain gcc -c x.c`, `--explain -- gcc -c x.c`, or one quoted word `--explain 'gcc -c
 * x.c'`, split as a shell would (wordexp without command substitution). */
static int cmd_explain(int argc, char **argv)
{
    char **cmd = argv + 1;
    int n = argc - 1, rc;
    wordexp_t we;

    if (n > 0 && strcmp(cmd[0], "--") == 0) {
        cmd++;
        n--;
    }
    if (n == 0)
        return cli_usage("option '%s' needs a command, as in: wafcache --explain gcc -c x.c",
                         argv[0]);
    if (n > 1 || !strpbrk(cmd[0], " \t"))
        return explain_exec(cmd);
    if (wordexp(cmd[0], &we, WRDE_NOCMD) != 0 || we.we_wordc == 0)
        return cli_usage("%s: cannot split \"%s\" into words", argv[0], cmd[0]);
    rc = explain_exec(we.we_wordv);
    wordfree(&we);
    return rc;
}

/* ---- main ---- */

/* The action for arg: "-s", "--show-stats", and for an option with a value also "-M10G" and
 * "--max-size=10G" (*value then points at the value). */
static const struct action *find_action(const char *arg, const char **value)
{
    *value = NULL;
    for (size_t i = 0; i < NACTIONS; i++) {
        const struct action *a = &actions[i];
        size_t ls = a->short_opt ? strlen(a->short_opt) : 0, ll = strlen(a->long_opt);
        if ((a->short_opt && strcmp(arg, a->short_opt) == 0) || strcmp(arg, a->long_opt) == 0)
            return a;
        if (!a->arg)
            continue;
        if (strncmp(arg, a->long_opt, ll) == 0 && arg[ll] == '=') {
            *value = arg + ll + 1;
            return a;
        }
        if (a->short_opt && strncmp(arg, a->short_opt, ls) == 0 && arg[ls] != '\0') {
            *value = arg + ls;
            return a;
        }
    }
    return NULL;
}

/* Runs the action with its value split off: argv[0] the option's name, argv[1] the value. */
static int run_joined(const struct action *a, const char *value, int argc, char **argv)
{
    char **v = calloc((size_t)argc + 2, sizeof(*v));
    int rc;

    if (!v)
        return cli_fail("out of memory");
    v[0] = (char *)(a->long_opt);
    v[1] = (char *)value;
    memcpy(v + 2, argv + 1, (size_t)(argc - 1) * sizeof(*argv));
    rc = a->run(argc + 1, v);
    free(v);
    return rc;
}

/* The value of -d DIR, --dir DIR, -dDIR or --dir=DIR at argv[1] (*used: the words it took),
 * or NULL when argv[1] is not that option. */
static const char *dir_option(int argc, char **argv, int *used)
{
    const char *a = argv[1];

    *used = 1;
    if (strncmp(a, "--dir=", 6) == 0)
        return a + 6;
    if (strncmp(a, "-d", 2) == 0 && a[2] != '\0')
        return a + 2;
    if (strcmp(a, "-d") != 0 && strcmp(a, "--dir") != 0)
        return NULL;
    *used = 2;
    return argc > 2 ? argv[2] : "";
}

/* -d DIR, as ccache's: the cache for this invocation. It becomes WAFCACHE (made absolute),
 * which wins over every other source, for an action and for a command run alike. */
static int set_dir(const char *opt, const char *dir)
{
    char cwd[PATH_MAX], *abs = NULL;
    int rc;

    if (*dir == '\0')
        return cli_usage("option '%s' needs a cache directory", opt);
    if (dir[0] == '/' || strstr(dir, "://"))
        rc = setenv("WAFCACHE", dir, 1);
    else if (getcwd(cwd, sizeof(cwd)) == NULL || asprintf(&abs, "%s/%s", cwd, dir) < 0)
        return cli_fail("%s: cannot make it absolute: %s", dir, strerror(errno));
    else
        rc = setenv("WAFCACHE", abs, 1);
    free(abs);
    return rc == 0 ? 0 : cli_fail("cannot set WAFCACHE: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    const struct action *a;
    const char *value;
    int used, rc;

    while (argc >= 2 && (value = dir_option(argc, argv, &used)) != NULL) {
        if ((rc = set_dir(argv[1], value)) != 0)
            return rc;
        argc -= used;
        argv += used;
    }
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--") == 0)
        return run_command(argv + 2);
    if (argv[1][0] != '-')
        return run_command(argv + 1);
    if ((a = find_action(argv[1], &value)) == NULL)
        return cli_usage("unknown option '%s'", argv[1]);
    if (value)
        return run_joined(a, value, argc - 1, argv + 1);
    return a->run(argc - 1, argv + 1);
}

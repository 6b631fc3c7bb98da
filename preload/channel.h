/* The observation channel between the processes of a real command (writers, in observe
 * mode of libwafcache.so) and the runner (reader). DESIGN.md: an inherited descriptor of an
 * unlinked temporary file opened O_APPEND; each process appends whole records.
 *
 * Wire format, one event a line, every line starting with the pid of the process:
 *   "<pid> H <ppid> <exe>"   hello: the process started (exe absolute)
 *   "<pid> B"                bye: the process ends (exit, _exit, or exec into another image)
 *   "<pid> r <path>"         opened for reading
 *   "<pid> w <path>"         opened for writing / created / truncated
 *   "<pid> m <path>"         probed and missing (ENOENT/ENOTDIR), whatever call probed it
 *   "<pid> x <path>"         exec of a program
 *   "<pid> l <path>"         shared object mapped or dlopen'ed
 *   "<pid> n <from>\t<to>"   rename
 *   "<pid> u <path>"         unlink / rmdir
 *   "<pid> i"                read from standard input (a terminal or pipe)
 *   "<pid> a <path>"         probed or opened and denied (EACCES) while resolving the path: a
 *                            directory on the way is not searchable by this user
 *   "<pid> o <path>"         opened for reading and missing (ENOENT/ENOTDIR): a probe that
 *                            wanted the file's content (parsed as 'm' plus WC_EV_READ_MISSING)
 *   "<pid> z <path>"         read something that is not a regular file or a directory: a pipe,
 *                            FIFO, socket, terminal or device other than /dev/null and
 *                            /dev/zero (/dev/stdin, /dev/fd/N, /proc/self/fd/N included):
 *                            its content cannot be hashed, so the run is not cached
 *   "<pid> e <NAME>=<value>" read environment variable NAME (getenv, secure_getenv, the
 *                            locale variables behind setlocale, PATH for an execvp-style
 *                            search), which held value
 *   "<pid> e <NAME>"         the same, NAME being unset (a name never holds '=')
 *   "<pid> s <path>"         written by the parent of a posix_spawn: its child <pid> runs
 *                            <path> and must say hello itself (else: not observed)
 * Paths are absolute; "." and empty components are removed, ".." is kept as the kernel will
 * resolve it (after a symbolic link it does not mean "drop the last component"); '\\', '\n' and
 * '\t' in them are escaped as
 * "\\\\", "\\n", "\\t". An exec that succeeds is followed by "B" of the old image and "H" of
 * the new one with the same pid. */
#ifndef WC_CHANNEL_H
#define WC_CHANNEL_H

#include <stddef.h>

#define WC_EV_READ 0x01         /* read (opened, exec'd or mapped) before the command wrote it */
#define WC_EV_WRITE 0x02        /* written, created, or a rename target */
#define WC_EV_MISSING 0x04      /* probed and missing before the command created it */
#define WC_EV_EXEC 0x08         /* exec'd */
#define WC_EV_LIB 0x10          /* mapped as a shared object */
#define WC_EV_GONE 0x20         /* unlinked or renamed away after its last write */
#define WC_EV_INPLACE 0x40      /* read as an input, then written: an in-place update */
#define WC_EV_READ_MISSING 0x80 /* an open for reading found it missing ("o") */
#define WC_EV_DENIED 0x100      /* probed or opened and denied ("a") before the command wrote it */

struct wc_path_event {
    char *path;
    unsigned flags;
};

/* An environment variable as one process read it. */
struct wc_env_read {
    char *name;
    char *value;  /* NULL: it was unset */
    int by_tools; /* every process that read it is a compiler driver, compiler or linker
                   * (wc_channel_is_tool), whose use of the variable is known */
};

struct wc_observation {
    int complete;     /* every hello had its bye, every exec its hello, every line parsed */
    int read_stdin;   /* some process read standard input */
    char reason[160]; /* why not complete */
    char refuse[256]; /* complete, but not cacheable (a 'z' event says what was read); or "" */
    size_t n_env;     /* distinct (name, value) pairs read, in first-seen order */
    struct wc_env_read *env;
    int whole_env; /* a process that takes its environment whole ran (a shell, an
                    * interpreter: its exe's basename is on the list in channel.c) */
    size_t n;      /* paths, deduplicated, in first-seen order */
    struct wc_path_event *paths;
    unsigned processes; /* hellos seen */
};

/* Parse a whole channel. 0, or -ENOMEM. A malformed channel is not an error: it gives
 * complete = 0 with a reason. */
int wc_channel_parse(const char *buf, size_t len, struct wc_observation *obs);
void wc_observation_free(struct wc_observation *obs);

/* exe (a path or a basename) is a compiler driver, compiler proper, assembler or linker of the
 * GNU or LLVM families ("gcc", "x86_64-linux-gnu-gcc-12", "clang++-15", "collect2", "ld.bfd"):
 * a program that reads PATH only to find the programs it runs, and DEPENDENCIES_OUTPUT only
 * to name the dependency file it writes. */
int wc_channel_is_tool(const char *exe);

/* Environment variable the runner sets for the real command: "<fd>:<dev>:<ino>" of the
 * channel, then ":<dev>:<ino>" of the command's standard input when it has one. */
#define WC_ENV_OBSERVE "WAFCACHE_OBSERVE_FD"
/* Set by the top-level process of a build: the session file runners add counters to. */
#define WC_ENV_SESSION "WAFCACHE_SESSION"
/* Set by the runner when it runs the real command without observing it (not cached, or a
 * fallback): the command's own children (collect2, ld) are part of it and are not cached on
 * their own; the library stays in intercept mode for the rest (hard-link protection). */
#define WC_ENV_PASSIVE "WAFCACHE_PASSIVE"
/* The runner starts with this in place of LD_PRELOAD (same value) and puts LD_PRELOAD back
 * first thing: the runner needs none of the library, and loading it was a tenth of a
 * millisecond on every cached command. */
#define WC_ENV_PRELOAD "WAFCACHE_PRELOAD"
/* Set by the top-level process of a build: "<pid>.<start time in ns>", the build's identity
 * (a runner says a problem once per build, preload/runner/notice.c). Its absence tells a
 * process that it is the build's first. */
#define WC_ENV_BUILD "WAFCACHE_BUILD"

#endif

/* A cache entry: the outputs of one command, its recorded stdout and stderr, and the
 * metadata that lists them. The metadata is a small text format (parsed defensively: it
 * may come from a store someone else controls). */
#ifndef WC_ENTRY_H
#define WC_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "hashing/hash.h"
#include "store/store.h"

struct wc_output {
    char *path;    /* relative to the command's cwd, or absolute when outside the base dir */
    unsigned mode; /* permission bits (07777) */
    uint64_t size;
    wc_hash hash;
};

struct wc_entry_meta {
    uint64_t run_ns; /* how long the real command took (for "time saved") */
    uint64_t stdout_size, stderr_size;
    wc_hash stdout_hash, stderr_hash;
    size_t n_outputs;
    struct wc_output *outputs;
};

/* Most outputs and longest metadata we accept from a store. */
#define WC_META_MAX_OUTPUTS 4096
#define WC_META_MAX_LEN (1u << 20)

/* malloc'd text of meta; *len its length. */
char *wc_meta_format(const struct wc_entry_meta *meta, size_t *len);
/* Parse; 0 or -EINVAL (meta is zeroed and left freeable on error). Rejects output paths
 * that are empty, contain "..", or repeat. */
int wc_meta_parse(const char *buf, size_t len, struct wc_entry_meta *meta);
void wc_meta_free(struct wc_entry_meta *meta);

/* The mode a restore gives an output recorded with mode `recorded`: (any execute bit ?
 * 0777 : 0666) less the current umask -- what gcc, ld and ar give a file they create. */
mode_t wc_restored_mode(unsigned recorded);

/* Store an entry: outputs as "0".."n-1" (paths resolved against cwd), stdout and stderr
 * when non-empty, then "meta" last. meta->outputs[i].size/hash/mode are filled from the
 * files. 0 or -errno. */
int wc_entry_push(wc_store *s, const char *key, const char *cwd, struct wc_entry_meta *meta,
                  const void *out, size_t out_len, const void *err, size_t err_len);

/* A recorded stdout or stderr as fetched: in memory (buf, NUL-terminated, len bytes), or,
 * past WC_STREAM_INLINE_MAX bytes, an unlinked temporary file of len bytes (fd >= 0, buf
 * NULL), so that memory never follows the size an entry declares. */
struct wc_stream {
    char *buf;
    size_t len;
    int fd;
};
#define WC_STREAM_INLINE_MAX (1u << 20)
/* Writes the whole stream to descriptor to. 0 or -errno. */
int wc_stream_replay(const struct wc_stream *st, int to);
void wc_stream_free(struct wc_stream *st);

/* Fetch an entry: read and parse "meta", then for each output get it to a temporary name
 * beside its destination, check size and hash, set its mode (unless it is a hard link into
 * the store), and rename into place; finally get stdout/stderr and check them. Nothing is
 * renamed into place before every output has been fetched and verified. 0, -ENOENT (no
 * entry, or an entry removed while we read it), -EBADMSG (corrupt: a miss plus an error),
 * -ENOTDIR (an output's directory is missing or a symbolic link: a restore never creates or
 * goes through one, the command runs for real), or another -errno of our own side (a full
 * disk, a read-only destination). Outputs get wc_restored_mode(). On error nothing is
 * restored, no temporary is left, *out and *err are empty (fd -1, buf NULL) and meta is
 * freed; on success the caller frees them with wc_stream_free, and the entry is touched
 * (LRU). The caller decides whether to remove a corrupt entry. */
/* What the command being served accounts for (see wc_output_declared): its arguments as run
 * and its absolute working directory. */
struct wc_declared {
    char *const *argv;
    const char *cwd;
    char *const *envp; /* its environment (wc_env_declares), or NULL */
};

/* decl, when not NULL, is checked against every output of the metadata first: an entry
 * with an output the command does not account for is corrupt (-EBADMSG), nothing restored. */
int wc_entry_fetch(wc_store *s, const char *key, const char *cwd, const struct wc_declared *decl,
                   struct wc_entry_meta *meta, struct wc_stream *out, struct wc_stream *err);

/* What the command being served declares it writes (store/declared.c). A store someone
 * else controls could name any file as an output; an output is restored only when the
 * command line names it (-o, -MF, -Wp,-MD,f, -aux-info, -MJ, ar's archive, a linker's -o,
 * -Map, --out-implib, --dependency-file; a.out, or <stem>.o per source under -c, without
 * -o) or gcc derives it from them (-MD's .d, -gsplit-dwarf's .dwo, --coverage's .gcno,
 * -fstack-usage's .su, -save-temps' .i/.ii/.s/.o/.bc..., -fdump-*'s numbered dumps), and it
 * is not an input (an operand) of the same command. path is absolute and normalised (a
 * ".", ".." or "//" in it is refused); argv's paths are resolved against cwd, absolute.
 * 1 when declared, else 0. */
int wc_output_declared(const char *path, char *const *argv, const char *cwd);

/* The same for the file that DEPENDENCIES_OUTPUT or SUNPRO_DEPENDENCIES in envp names ("file"
 * or "file target", relative to cwd), which a compiler driver of argv writes its rules to. */
int wc_env_declares(const char *path, char *const *argv, char *const *envp, const char *cwd);

/* 1 when arg, taken from cwd, is path (absolute, normalised); an argument with a ".." after a
 * name names nothing (the kernel decides where it leads). For declared.c and declared_gen.c. */
int wc_arg_names(const char *cwd, const char *arg, const char *path);

/* The same for a generator (bison, flex, objcopy, strip... store/declared_gen.c lists what
 * each writes) and for a program added through WAFCACHE_PROGRAMS. */
int wc_generator_declares(const char *path, char *const *argv, const char *cwd);

/* 1 when every output of meta, resolved against root, is declared by decl (what a fetch
 * checks first): the runner does not store an entry that no hit could restore. */
int wc_entry_declared(const struct wc_entry_meta *meta, const char *root,
                      const struct wc_declared *decl);

#endif

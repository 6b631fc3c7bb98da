/* Response files: "@file" arguments expanded as the tools themselves do (libiberty's
 * expandargv/buildargv for gcc, ld and ar; LLVM's GNU tokenizer for clang and lld), so that
 * what a response file says is analysed and keyed as the command line it is (SPEC §4,
 * issue 12 class 7). The files are untrusted input: their number, size and the number of
 * arguments they produce are bounded. */
#ifndef WC_ATFILE_H
#define WC_ATFILE_H

#include <stddef.h>

/* libiberty's own limit: gcc stops with "too many @-files encountered" past it. */
#define WC_ATFILE_MAX_FILES 2000
/* Bytes read from all response files of one command, and arguments produced by them. */
#define WC_ATFILE_MAX_BYTES (8u << 20)
#define WC_ATFILE_MAX_ARGS (1u << 18)

/* clang: a relative "@name" inside a response file is taken from that file's directory
 * (LLVM's RelativeNames), not from the working directory as in libiberty. */
#define WC_ATFILE_NESTED_RELATIVE 1u

/* The flags that reproduce how the program called basename reads response files. */
unsigned wc_atfile_flags_for(const char *basename);

/* buildargv: text[0..len) split at unquoted whitespace; single and double quotes group and
 * are removed; a backslash takes the next character literally (inside quotes too); text ends
 * at a NUL byte. Text that is only whitespace gives no argument. A malloc'd, NULL-terminated
 * vector; *argc gets its length. 0, -E2BIG past max_args, or -ENOMEM. */
int wc_atfile_split(const char *text, size_t len, size_t max_args, char ***argv, size_t *argc);

/* expandargv: a copy of argv (argv[0] untouched) in which every "@file" that names a readable
 * regular file is replaced by the arguments it holds, recursively; an "@file" that is
 * missing, unreadable or a directory stays as it is, as the tools leave it. *expanded gets
 * the number of files expanded (0: *out is a plain copy). 0, -ELOOP past
 * WC_ATFILE_MAX_FILES, -E2BIG past the byte or argument bound, or -ENOMEM. */
int wc_atfile_expand(char *const *argv, unsigned flags, char ***out, size_t *expanded);

/* One argument quoted for a response file (libiberty's writeargv): whitespace, quotes and
 * backslashes escaped with a backslash, "" for an empty argument. malloc'd, or NULL. */
char *wc_atfile_quote(const char *arg);

#endif

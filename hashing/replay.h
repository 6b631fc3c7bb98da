/* Recorded stdout and stderr name the recording checkout's paths; a hit in another checkout
 * must print its own (issue 12, class 8). The recording base dir is stored as a token and the
 * current base dir put in its place on a hit. */
#ifndef WC_REPLAY_H
#define WC_REPLAY_H

#include <stddef.h>

/* The escape byte of a recorded stream: WC_REPLAY_ESC 'B' stands for the base dir,
 * WC_REPLAY_ESC WC_REPLAY_ESC for the byte itself; nothing else follows it. SOH: a byte
 * compilers do not print, so that escaping it costs nothing in practice. */
#define WC_REPLAY_ESC '\001'

/* in[0..n) with every occurrence of basedir that is a whole path prefix ("/w/p" in "/w/p:",
 * "/w/p/x.c"; not in "/w/p2" or "/x/w/p") replaced by the token. basedir NULL or "" marks
 * nothing and only escapes. *out is malloc'd (never NULL on success). 0 or -ENOMEM. */
int wc_replay_mark(const char *in, size_t n, const char *basedir, char **out, size_t *out_n);

/* The inverse, with the current base dir. -EINVAL for a malformed escape or a token with no
 * base dir to put in its place: the hit is then refused. 0, -EINVAL or -ENOMEM. */
int wc_replay_unmark(const char *in, size_t n, const char *basedir, char **out, size_t *out_n);

#endif

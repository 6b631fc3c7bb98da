/* One redaction for everything wafcache prints (messages, `wafcache -p`, WAFCACHE_LOG, the
 * verbose lines, --explain): credentials never leave the process in text. */
#ifndef WC_REDACT_H
#define WC_REDACT_H

#include <stddef.h>

/* Copies text into buf (n bytes, always NUL-terminated, cut when too long) with "***" in
 * place of:
 *   - a URL's user-info password (user:PASSWORD@host becomes user:MASK@host), or the whole
 *     user-info when it has no ':' (a token: TOKEN@host becomes MASK@host), MASK being
 *     three asterisks;
 *   - the value of a query or form parameter whose name looks like a credential
 *     (access_token, X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, sig, token,
 *     password, secret, api_key, ...: name=***);
 *   - what follows "Authorization:" (to the end of the word, quoted text included) and
 *     "Bearer ";
 *   - the value of WAFCACHE_HTTP_TOKEN, wherever it appears. */
void wc_redact(const char *text, char *buf, size_t n);

/* The same for a command line (WAFCACHE_CMD), and also the word after -u, --user,
 * --password, -H, --header, --proxy-user, --oauth2-bearer (and their --opt=value forms), as
 * curl or wget take credentials. Not for arbitrary text: gcc's -u and -H are no secrets. */
void wc_redact_command(const char *text, char *buf, size_t n);

#endif

/* The HTTP store (SPEC §6), in wafcache-remote.so; its constructor, wc_http_open, is declared
 * in store/remote.h. Files live at <URL>/<key>/<name>, the seed's layout.
 *
 * Settings:
 *   WAFCACHE=http[s]://[user:password@]host[:port]/path[/]   userinfo goes to libcurl as
 *       basic-auth credentials and never into a message;
 *   WAFCACHE_HTTP_METHOD=post (default): the seed's protocol, POST <URL>/<key>/<name> with a
 *       multipart field "file" whose filename is "<key>/<name>";
 *   WAFCACHE_HTTP_METHOD=put: plain PUT/GET/HEAD/DELETE, for stock servers (nginx WebDAV with
 *       create_full_put_path, bazel-remote-like caches);
 *   WAFCACHE_HTTP_TOKEN=<token>: sent as "Authorization: Bearer <token>" (wins over userinfo);
 *   WAFCACHE_TIMEOUT: both the connect timeout and the limit on each whole request.
 * TLS certificates are always verified (OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR pick another CA
 * bundle); proxies come from libcurl's usual http_proxy / https_proxy / no_proxy.
 *
 * Errors: 404 and 410 are -ENOENT; 401 and 403 -EACCES; any other status >= 300 -EIO (no
 * redirect is followed: credentials must not travel to another host); a timeout -ETIMEDOUT;
 * a refused connection -ECONNREFUSED; a short body (fewer bytes than Content-Length) -EIO;
 * read past max_len -EFBIG. touch is a no-op (the server evicts); remove is DELETE in PUT
 * mode and -ENOTSUP in POST mode. exists is HEAD, falling back to GET for a server that
 * answers HEAD with 405 or 501 (the seed's servers may only know GET and POST). */
#ifndef WC_STORE_HTTP_H
#define WC_STORE_HTTP_H

#include "store/store.h"

#define WC_HTTP_TOKEN_ENV "WAFCACHE_HTTP_TOKEN"

#endif

/* stub: being written */
typedef int wc_stub_http_t;

/* stub: being written */
typedef int wc_stub_sigv4_t;

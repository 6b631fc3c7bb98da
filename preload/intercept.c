/* stub: being written */
typedef int wc_stub_intercept_t;

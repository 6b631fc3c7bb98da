/* stub: being written */
typedef int wc_stub_util_t;

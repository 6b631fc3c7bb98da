/* stub: being written */
typedef int wc_stub_trim_t;

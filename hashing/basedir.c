/* stub: being written */
typedef int wc_stub_basedir_t;

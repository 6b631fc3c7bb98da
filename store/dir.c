/* stub: being written */
typedef int wc_stub_dir_t;

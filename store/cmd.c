/* stub: being written */
typedef int wc_stub_cmd_t;

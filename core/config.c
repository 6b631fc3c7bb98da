/* stub: being written */
typedef int wc_stub_config_t;

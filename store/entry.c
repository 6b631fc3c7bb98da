/* stub: being written */
typedef int wc_stub_entry_t;

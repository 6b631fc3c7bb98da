/* stub: being written */
typedef int wc_stub_hash_t;

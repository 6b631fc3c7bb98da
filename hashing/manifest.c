/* stub: being written */
typedef int wc_stub_manifest_t;

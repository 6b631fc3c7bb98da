/* stub: being written */
typedef int wc_stub_signature_t;

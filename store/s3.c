/* stub: being written */
typedef int wc_stub_s3_t;

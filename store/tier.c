/* stub: being written */
typedef int wc_stub_tier_t;

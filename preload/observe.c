/* stub: being written */
typedef int wc_stub_observe_t;

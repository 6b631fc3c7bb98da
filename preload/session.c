/* stub: being written */
typedef int wc_stub_session_t;

/* stub: being written */
typedef int wc_stub_memo_t;

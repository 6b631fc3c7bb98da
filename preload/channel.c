/* stub: being written */
typedef int wc_stub_channel_t;

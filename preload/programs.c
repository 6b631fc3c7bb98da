/* stub: being written */
typedef int wc_stub_programs_t;

#ifndef SC_PROBE_XSTEST_DATA_H
#define SC_PROBE_XSTEST_DATA_H

/* data/xstest/xstest_prompts.csv, from sc_xstest_csv to sc_xstest_csv_end */
extern const char sc_xstest_csv[], sc_xstest_csv_end[];

#endif

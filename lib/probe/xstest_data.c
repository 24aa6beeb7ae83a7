/* XSTest's prompts, in the binary so that `sparkctl probe` needs no data
 * folder: data/xstest/xstest_prompts.csv (CC-BY-4.0; the license and the
 * attribution are in data/xstest/). The assembler includes the file as it
 * is; the Makefile rebuilds this object when the file changes. */
#include "xstest_data.h"

__asm__(".pushsection .rodata\n"
	".global sc_xstest_csv\n"
	".hidden sc_xstest_csv\n"
	".type sc_xstest_csv, @object\n"
	"sc_xstest_csv:\n"
	".incbin \"data/xstest/xstest_prompts.csv\"\n"
	".global sc_xstest_csv_end\n"
	".hidden sc_xstest_csv_end\n"
	"sc_xstest_csv_end:\n"
	".byte 0\n"
	".popsection\n");

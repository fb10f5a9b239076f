/* Callgrind controls for `ixwasm bench instructions`: the replay child calls
 * these through koffi, so only the counting windows are counted (run with
 * --collect-atstart=no) and each window is written as a dump of its own whose
 * trigger names its packet count. Outside valgrind the client requests are
 * no-ops. */
#include <valgrind/callgrind.h>

void ixwasm_cg_on(void) { CALLGRIND_TOGGLE_COLLECT; }
void ixwasm_cg_off(void) { CALLGRIND_TOGGLE_COLLECT; }
void ixwasm_cg_dump(const char *tag) { CALLGRIND_DUMP_STATS_AT(tag); }

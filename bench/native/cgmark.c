/* Callgrind collection switch for `ixwasm bench instructions`: the replay child
 * calls these through koffi around the replay, so Node's start-up and exit are
 * not counted (run with --collect-atstart=no). Outside valgrind the client
 * requests are no-ops. */
#include <valgrind/callgrind.h>

void ixwasm_cg_on(void) { CALLGRIND_TOGGLE_COLLECT; }
void ixwasm_cg_off(void) { CALLGRIND_TOGGLE_COLLECT; }

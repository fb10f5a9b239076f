// Generated: every protocol constant as bytes in static data (no strings in the
// core). Each constant's text is in the comment above it; *_LEN is its length.

// 'STORED\r\n'
export const T_STORED = memory.data<u8>([83, 84, 79, 82, 69, 68, 13, 10]);
export const T_STORED_LEN: usize = 8;
// 'NOT_STORED\r\n'
export const T_NOT_STORED = memory.data<u8>([78, 79, 84, 95, 83, 84, 79, 82, 69, 68, 13, 10]);
export const T_NOT_STORED_LEN: usize = 12;
// 'EXISTS\r\n'
export const T_EXISTS = memory.data<u8>([69, 88, 73, 83, 84, 83, 13, 10]);
export const T_EXISTS_LEN: usize = 8;
// 'NOT_FOUND\r\n'
export const T_NOT_FOUND = memory.data<u8>([78, 79, 84, 95, 70, 79, 85, 78, 68, 13, 10]);
export const T_NOT_FOUND_LEN: usize = 11;
// 'DELETED\r\n'
export const T_DELETED = memory.data<u8>([68, 69, 76, 69, 84, 69, 68, 13, 10]);
export const T_DELETED_LEN: usize = 9;
// 'TOUCHED\r\n'
export const T_TOUCHED = memory.data<u8>([84, 79, 85, 67, 72, 69, 68, 13, 10]);
export const T_TOUCHED_LEN: usize = 9;
// 'END\r\n'
export const T_END = memory.data<u8>([69, 78, 68, 13, 10]);
export const T_END_LEN: usize = 5;
// 'OK\r\n'
export const T_OK = memory.data<u8>([79, 75, 13, 10]);
export const T_OK_LEN: usize = 4;
// 'RESET\r\n'
export const T_RESET = memory.data<u8>([82, 69, 83, 69, 84, 13, 10]);
export const T_RESET_LEN: usize = 7;
// 'ERROR\r\n'
export const T_ERROR = memory.data<u8>([69, 82, 82, 79, 82, 13, 10]);
export const T_ERROR_LEN: usize = 7;
// 'VALUE '
export const T_VALUE = memory.data<u8>([86, 65, 76, 85, 69, 32]);
export const T_VALUE_LEN: usize = 6;
// 'VERSION '
export const T_VERSION = memory.data<u8>([86, 69, 82, 83, 73, 79, 78, 32]);
export const T_VERSION_LEN: usize = 8;
// '\r\n'
export const T_CRLF = memory.data<u8>([13, 10]);
export const T_CRLF_LEN: usize = 2;
// 'STAT '
export const T_STAT = memory.data<u8>([83, 84, 65, 84, 32]);
export const T_STAT_LEN: usize = 5;
// '1.6.18-ixwasm'
export const T_VERSION_STR = memory.data<u8>([49, 46, 54, 46, 49, 56, 45, 105, 120, 119, 97, 115, 109]);
export const T_VERSION_STR_LEN: usize = 13;
// 'CLIENT_ERROR bad command line format\r\n'
export const E_FORMAT = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 98, 97, 100, 32, 99, 111, 109, 109, 97, 110, 100, 32, 108, 105, 110, 101, 32, 102, 111, 114, 109, 97, 116, 13, 10]);
export const E_FORMAT_LEN: usize = 38;
// 'CLIENT_ERROR bad data chunk\r\n'
export const E_CHUNK = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 98, 97, 100, 32, 100, 97, 116, 97, 32, 99, 104, 117, 110, 107, 13, 10]);
export const E_CHUNK_LEN: usize = 29;
// 'SERVER_ERROR object too large for cache\r\n'
export const E_TOO_LARGE = memory.data<u8>([83, 69, 82, 86, 69, 82, 95, 69, 82, 82, 79, 82, 32, 111, 98, 106, 101, 99, 116, 32, 116, 111, 111, 32, 108, 97, 114, 103, 101, 32, 102, 111, 114, 32, 99, 97, 99, 104, 101, 13, 10]);
export const E_TOO_LARGE_LEN: usize = 41;
// 'SERVER_ERROR out of memory storing object\r\n'
export const E_NOMEM = memory.data<u8>([83, 69, 82, 86, 69, 82, 95, 69, 82, 82, 79, 82, 32, 111, 117, 116, 32, 111, 102, 32, 109, 101, 109, 111, 114, 121, 32, 115, 116, 111, 114, 105, 110, 103, 32, 111, 98, 106, 101, 99, 116, 13, 10]);
export const E_NOMEM_LEN: usize = 43;
// 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'
export const E_NON_NUMERIC = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 99, 97, 110, 110, 111, 116, 32, 105, 110, 99, 114, 101, 109, 101, 110, 116, 32, 111, 114, 32, 100, 101, 99, 114, 101, 109, 101, 110, 116, 32, 110, 111, 110, 45, 110, 117, 109, 101, 114, 105, 99, 32, 118, 97, 108, 117, 101, 13, 10]);
export const E_NON_NUMERIC_LEN: usize = 62;
// 'CLIENT_ERROR invalid numeric delta argument\r\n'
export const E_DELTA = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 105, 110, 118, 97, 108, 105, 100, 32, 110, 117, 109, 101, 114, 105, 99, 32, 100, 101, 108, 116, 97, 32, 97, 114, 103, 117, 109, 101, 110, 116, 13, 10]);
export const E_DELTA_LEN: usize = 45;
// 'CLIENT_ERROR invalid exptime argument\r\n'
export const E_EXPTIME = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 105, 110, 118, 97, 108, 105, 100, 32, 101, 120, 112, 116, 105, 109, 101, 32, 97, 114, 103, 117, 109, 101, 110, 116, 13, 10]);
export const E_EXPTIME_LEN: usize = 39;
// 'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n'
export const E_DELETE = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 98, 97, 100, 32, 99, 111, 109, 109, 97, 110, 100, 32, 108, 105, 110, 101, 32, 102, 111, 114, 109, 97, 116, 46, 32, 32, 85, 115, 97, 103, 101, 58, 32, 100, 101, 108, 101, 116, 101, 32, 60, 107, 101, 121, 62, 32, 91, 110, 111, 114, 101, 112, 108, 121, 93, 13, 10]);
export const E_DELETE_LEN: usize = 70;
// 'CLIENT_ERROR usage: stats detail on|off|dump\r\n'
export const E_DETAIL = memory.data<u8>([67, 76, 73, 69, 78, 84, 95, 69, 82, 82, 79, 82, 32, 117, 115, 97, 103, 101, 58, 32, 115, 116, 97, 116, 115, 32, 100, 101, 116, 97, 105, 108, 32, 111, 110, 124, 111, 102, 102, 124, 100, 117, 109, 112, 13, 10]);
export const E_DETAIL_LEN: usize = 46;
// 'SERVER_ERROR out of memory writing get response\r\n'
export const E_GET_NOMEM = memory.data<u8>([83, 69, 82, 86, 69, 82, 95, 69, 82, 82, 79, 82, 32, 111, 117, 116, 32, 111, 102, 32, 109, 101, 109, 111, 114, 121, 32, 119, 114, 105, 116, 105, 110, 103, 32, 103, 101, 116, 32, 114, 101, 115, 112, 111, 110, 115, 101, 13, 10]);
export const E_GET_NOMEM_LEN: usize = 49;
// 'get'
export const K_GET = memory.data<u8>([103, 101, 116]);
export const K_GET_LEN: usize = 3;
// 'gets'
export const K_GETS = memory.data<u8>([103, 101, 116, 115]);
export const K_GETS_LEN: usize = 4;
// 'gat'
export const K_GAT = memory.data<u8>([103, 97, 116]);
export const K_GAT_LEN: usize = 3;
// 'gats'
export const K_GATS = memory.data<u8>([103, 97, 116, 115]);
export const K_GATS_LEN: usize = 4;
// 'set'
export const K_SET = memory.data<u8>([115, 101, 116]);
export const K_SET_LEN: usize = 3;
// 'add'
export const K_ADD = memory.data<u8>([97, 100, 100]);
export const K_ADD_LEN: usize = 3;
// 'replace'
export const K_REPLACE = memory.data<u8>([114, 101, 112, 108, 97, 99, 101]);
export const K_REPLACE_LEN: usize = 7;
// 'append'
export const K_APPEND = memory.data<u8>([97, 112, 112, 101, 110, 100]);
export const K_APPEND_LEN: usize = 6;
// 'prepend'
export const K_PREPEND = memory.data<u8>([112, 114, 101, 112, 101, 110, 100]);
export const K_PREPEND_LEN: usize = 7;
// 'cas'
export const K_CAS = memory.data<u8>([99, 97, 115]);
export const K_CAS_LEN: usize = 3;
// 'delete'
export const K_DELETE = memory.data<u8>([100, 101, 108, 101, 116, 101]);
export const K_DELETE_LEN: usize = 6;
// 'incr'
export const K_INCR = memory.data<u8>([105, 110, 99, 114]);
export const K_INCR_LEN: usize = 4;
// 'decr'
export const K_DECR = memory.data<u8>([100, 101, 99, 114]);
export const K_DECR_LEN: usize = 4;
// 'touch'
export const K_TOUCH = memory.data<u8>([116, 111, 117, 99, 104]);
export const K_TOUCH_LEN: usize = 5;
// 'flush_all'
export const K_FLUSH_ALL = memory.data<u8>([102, 108, 117, 115, 104, 95, 97, 108, 108]);
export const K_FLUSH_ALL_LEN: usize = 9;
// 'version'
export const K_VERSION = memory.data<u8>([118, 101, 114, 115, 105, 111, 110]);
export const K_VERSION_LEN: usize = 7;
// 'verbosity'
export const K_VERBOSITY = memory.data<u8>([118, 101, 114, 98, 111, 115, 105, 116, 121]);
export const K_VERBOSITY_LEN: usize = 9;
// 'stats'
export const K_STATS = memory.data<u8>([115, 116, 97, 116, 115]);
export const K_STATS_LEN: usize = 5;
// 'quit'
export const K_QUIT = memory.data<u8>([113, 117, 105, 116]);
export const K_QUIT_LEN: usize = 4;
// 'noreply'
export const K_NOREPLY = memory.data<u8>([110, 111, 114, 101, 112, 108, 121]);
export const K_NOREPLY_LEN: usize = 7;
// 'reset'
export const K_RESET = memory.data<u8>([114, 101, 115, 101, 116]);
export const K_RESET_LEN: usize = 5;
// 'detail'
export const K_DETAIL = memory.data<u8>([100, 101, 116, 97, 105, 108]);
export const K_DETAIL_LEN: usize = 6;
// 'HTTP/'
export const K_HTTP = memory.data<u8>([72, 84, 84, 80, 47]);
export const K_HTTP_LEN: usize = 5;
// '0'
export const K_ZERO = memory.data<u8>([48]);
export const K_ZERO_LEN: usize = 1;
// 'settings'
export const K_SETTINGS = memory.data<u8>([115, 101, 116, 116, 105, 110, 103, 115]);
export const K_SETTINGS_LEN: usize = 8;
// 'items'
export const K_ITEMS = memory.data<u8>([105, 116, 101, 109, 115]);
export const K_ITEMS_LEN: usize = 5;
// 'slabs'
export const K_SLABS = memory.data<u8>([115, 108, 97, 98, 115]);
export const K_SLABS_LEN: usize = 5;
// 'sizes'
export const K_SIZES = memory.data<u8>([115, 105, 122, 101, 115]);
export const K_SIZES_LEN: usize = 5;
// 'conns'
export const K_CONNS = memory.data<u8>([99, 111, 110, 110, 115]);
export const K_CONNS_LEN: usize = 5;
// 'ERROR: shutdown not enabled\r\n'
export const E_SHUTDOWN = memory.data<u8>([69, 82, 82, 79, 82, 58, 32, 115, 104, 117, 116, 100, 111, 119, 110, 32, 110, 111, 116, 32, 101, 110, 97, 98, 108, 101, 100, 13, 10]);
export const E_SHUTDOWN_LEN: usize = 29;
// 'STAT sizes_status disabled\r\nEND\r\n'
export const T_SIZES_DISABLED = memory.data<u8>([83, 84, 65, 84, 32, 115, 105, 122, 101, 115, 95, 115, 116, 97, 116, 117, 115, 32, 100, 105, 115, 97, 98, 108, 101, 100, 13, 10, 69, 78, 68, 13, 10]);
export const T_SIZES_DISABLED_LEN: usize = 33;
// 'shutdown'
export const K_SHUTDOWN = memory.data<u8>([115, 104, 117, 116, 100, 111, 119, 110]);
export const K_SHUTDOWN_LEN: usize = 8;
// 'sizes_status'
export const K_SIZES_STATUS = memory.data<u8>([115, 105, 122, 101, 115, 95, 115, 116, 97, 116, 117, 115]);
export const K_SIZES_STATUS_LEN: usize = 12;
// 'disabled'
export const K_DISABLED = memory.data<u8>([100, 105, 115, 97, 98, 108, 101, 100]);
export const K_DISABLED_LEN: usize = 8;
// 'sizes_disable'
export const K_SIZES_DISABLE = memory.data<u8>([115, 105, 122, 101, 115, 95, 100, 105, 115, 97, 98, 108, 101]);
export const K_SIZES_DISABLE_LEN: usize = 13;
// 'Not found'
export const B_NOT_FOUND = memory.data<u8>([78, 111, 116, 32, 102, 111, 117, 110, 100]);
export const B_NOT_FOUND_LEN: usize = 9;
// 'Data exists for key.'
export const B_EXISTS = memory.data<u8>([68, 97, 116, 97, 32, 101, 120, 105, 115, 116, 115, 32, 102, 111, 114, 32, 107, 101, 121, 46]);
export const B_EXISTS_LEN: usize = 20;
// 'Too large.'
export const B_TOO_LARGE = memory.data<u8>([84, 111, 111, 32, 108, 97, 114, 103, 101, 46]);
export const B_TOO_LARGE_LEN: usize = 10;
// 'Invalid arguments'
export const B_EINVAL = memory.data<u8>([73, 110, 118, 97, 108, 105, 100, 32, 97, 114, 103, 117, 109, 101, 110, 116, 115]);
export const B_EINVAL_LEN: usize = 17;
// 'Not stored.'
export const B_NOT_STORED = memory.data<u8>([78, 111, 116, 32, 115, 116, 111, 114, 101, 100, 46]);
export const B_NOT_STORED_LEN: usize = 11;
// 'Non-numeric server-side value for incr or decr'
export const B_NON_NUMERIC = memory.data<u8>([78, 111, 110, 45, 110, 117, 109, 101, 114, 105, 99, 32, 115, 101, 114, 118, 101, 114, 45, 115, 105, 100, 101, 32, 118, 97, 108, 117, 101, 32, 102, 111, 114, 32, 105, 110, 99, 114, 32, 111, 114, 32, 100, 101, 99, 114]);
export const B_NON_NUMERIC_LEN: usize = 46;
// 'Unknown command'
export const B_UNKNOWN = memory.data<u8>([85, 110, 107, 110, 111, 119, 110, 32, 99, 111, 109, 109, 97, 110, 100]);
export const B_UNKNOWN_LEN: usize = 15;
// 'Out of memory'
export const B_NOMEM = memory.data<u8>([79, 117, 116, 32, 111, 102, 32, 109, 101, 109, 111, 114, 121]);
export const B_NOMEM_LEN: usize = 13;
// stat names, length-prefixed, in order: pid uptime time version pointer_size curr_connections total_connections rejected_connections cmd_get cmd_set cmd_flush cmd_touch get_hits get_misses get_expired get_flushed delete_misses delete_hits incr_misses incr_hits decr_misses decr_hits cas_misses cas_hits cas_badval touch_hits touch_misses store_too_large store_no_memory bytes_read bytes_written limit_maxbytes threads bytes curr_items total_items expired_unfetched evicted_unfetched evictions reclaimed
export const STAT_NAMES = memory.data<u8>([3, 112, 105, 100, 6, 117, 112, 116, 105, 109, 101, 4, 116, 105, 109, 101, 7, 118, 101, 114, 115, 105, 111, 110, 12, 112, 111, 105, 110, 116, 101, 114, 95, 115, 105, 122, 101, 16, 99, 117, 114, 114, 95, 99, 111, 110, 110, 101, 99, 116, 105, 111, 110, 115, 17, 116, 111, 116, 97, 108, 95, 99, 111, 110, 110, 101, 99, 116, 105, 111, 110, 115, 20, 114, 101, 106, 101, 99, 116, 101, 100, 95, 99, 111, 110, 110, 101, 99, 116, 105, 111, 110, 115, 7, 99, 109, 100, 95, 103, 101, 116, 7, 99, 109, 100, 95, 115, 101, 116, 9, 99, 109, 100, 95, 102, 108, 117, 115, 104, 9, 99, 109, 100, 95, 116, 111, 117, 99, 104, 8, 103, 101, 116, 95, 104, 105, 116, 115, 10, 103, 101, 116, 95, 109, 105, 115, 115, 101, 115, 11, 103, 101, 116, 95, 101, 120, 112, 105, 114, 101, 100, 11, 103, 101, 116, 95, 102, 108, 117, 115, 104, 101, 100, 13, 100, 101, 108, 101, 116, 101, 95, 109, 105, 115, 115, 101, 115, 11, 100, 101, 108, 101, 116, 101, 95, 104, 105, 116, 115, 11, 105, 110, 99, 114, 95, 109, 105, 115, 115, 101, 115, 9, 105, 110, 99, 114, 95, 104, 105, 116, 115, 11, 100, 101, 99, 114, 95, 109, 105, 115, 115, 101, 115, 9, 100, 101, 99, 114, 95, 104, 105, 116, 115, 10, 99, 97, 115, 95, 109, 105, 115, 115, 101, 115, 8, 99, 97, 115, 95, 104, 105, 116, 115, 10, 99, 97, 115, 95, 98, 97, 100, 118, 97, 108, 10, 116, 111, 117, 99, 104, 95, 104, 105, 116, 115, 12, 116, 111, 117, 99, 104, 95, 109, 105, 115, 115, 101, 115, 15, 115, 116, 111, 114, 101, 95, 116, 111, 111, 95, 108, 97, 114, 103, 101, 15, 115, 116, 111, 114, 101, 95, 110, 111, 95, 109, 101, 109, 111, 114, 121, 10, 98, 121, 116, 101, 115, 95, 114, 101, 97, 100, 13, 98, 121, 116, 101, 115, 95, 119, 114, 105, 116, 116, 101, 110, 14, 108, 105, 109, 105, 116, 95, 109, 97, 120, 98, 121, 116, 101, 115, 7, 116, 104, 114, 101, 97, 100, 115, 5, 98, 121, 116, 101, 115, 10, 99, 117, 114, 114, 95, 105, 116, 101, 109, 115, 11, 116, 111, 116, 97, 108, 95, 105, 116, 101, 109, 115, 17, 101, 120, 112, 105, 114, 101, 100, 95, 117, 110, 102, 101, 116, 99, 104, 101, 100, 17, 101, 118, 105, 99, 116, 101, 100, 95, 117, 110, 102, 101, 116, 99, 104, 101, 100, 9, 101, 118, 105, 99, 116, 105, 111, 110, 115, 9, 114, 101, 99, 108, 97, 105, 109, 101, 100]);
export const STAT_COUNT: i32 = 40;

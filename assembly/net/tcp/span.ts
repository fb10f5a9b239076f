// Send-span pool sizing (implemented in the net/tcp work).
export const SPAN_ENTRY_BYTES: usize = 16;

// ARP / neighbour cache (implemented in the net/ work).
export const NEIGH_ENTRY_BYTES: usize = 32;

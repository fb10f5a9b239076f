// Suite lists that several mutants name (substrings of test paths).
export const TCP = [
  "test/net/tcp/states",
  "test/net/tcp/checks",
  "test/net/tcp/robust",
  "test/net/tcp/send-boundaries",
  "test/net/tcp/transfer",
];
export const TCP_CC = [...TCP, "test/net/tcp/congestion"];
export const FLOW = ["test/flow/"];
export const READER = ["test/io/reader", "test/io/writer"];
export const MC = ["test/apps/memcached"];
export const FID = ["test/report/fidelity-pending", "test/report/fidelity"];
// The net layer's own suites (not test/net/tcp/, which TCP lists).
export const NET = ["test/net/basic", "test/net/loop", "test/net/tx-csum-offload"];

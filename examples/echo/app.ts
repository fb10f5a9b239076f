// echo as an app module: sends every received TCP byte back (the isolated twin of
// the core's built-in echo, for `ixwasm bench` and the containment tests).
// Options: conns=N (connections at once, default 256).
//
// Received bytes are copied into the connection's send queue (sdk/outq.ts) and
// given back with RECV_DONE only once the proxy has accepted them, so what waits
// here never exceeds the receive window (the queue holds 64 KiB + 8 KiB).
import { IXAPP_UDP, register } from "../../sdk";
import { echoInit, echoRun } from "./echo";
export * from "../../sdk/exports";

register(echoInit, echoRun, 7, IXAPP_UDP);

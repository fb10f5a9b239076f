#!/usr/bin/env python3
"""Turn tshark -T fields output into ixwasm's expected dump/inspect records.

Used by make-expected.sh; see there and ../README.md for the exact tshark
command line.  Input: the capture file itself (for its format, link types
and an independent record count) and a TSV written by tshark with
`-E header=y -E separator=/t -E occurrence=a -E aggregator=,`.

Output rules (the shape of `ixwasm dump --jsonl`):
  n        frame.number
  ts       frame.time_epoch, decimal string with exactly 9 fraction digits
  caplen   frame.cap_len          len  frame.len
  src/dst  the outermost IP header: whichever of ip / ipv6 comes first in
           frame.protocols; first occurrence of ip.src/ip.dst or
           ipv6.src/ipv6.dst; IPv6 re-printed in RFC 5952 form
  proto    IPv4: first ip.proto.  IPv6: the next header after the extension
           headers, found by walking ipv6.nxt -> ipv6.hopopts.nxt /
           ipv6.routing.nxt / ipv6.fraghdr.nxt / ipv6.dstopts.nxt (tshark
           4.0 lists only the fixed header's value under ipv6.nxt)
  sport/dport, flags, seq, ack, payload
           only when proto is 6 (TCP) or 17 (UDP) and tshark decoded that
           header (a non-first fragment has none): tcp.srcport/dstport,
           tcp.flags as an integer, tcp.seq_raw, tcp.ack_raw, tcp.len;
           udp.srcport/dstport, payload = udp.length - 8.  Ports inside an
           ICMP error's quoted packet are not used (proto is then 1 / 58).
  null wherever a value is absent.
"""
import ipaddress
import json
import struct
import sys

EXT_NXT = {0: "ipv6.hopopts.nxt", 43: "ipv6.routing.nxt",
           44: "ipv6.fraghdr.nxt", 60: "ipv6.dstopts.nxt"}


def first(row, name):
    v = row.get(name, "")
    return v.split(",")[0] if v else None


def allv(row, name):
    v = row.get(name, "")
    return v.split(",") if v else []


def ts9(s):
    whole, _, frac = s.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 9:
        raise ValueError("unexpected frame.time_epoch %r" % s)
    return "%s.%s" % (whole, frac.ljust(9, "0"))


def num(s):
    return None if s is None else int(s, 0)


def ipv6_text(s):
    return ipaddress.IPv6Address(s).compressed


def convert(row):
    layers = row.get("frame.protocols", "").split(":")
    outer = next((l for l in layers if l in ("ip", "ipv6")), None)
    rec = {"n": int(row["frame.number"]), "ts": ts9(row["frame.time_epoch"]),
           "caplen": int(row["frame.cap_len"]), "len": int(row["frame.len"]),
           "src": None, "dst": None, "proto": None, "sport": None, "dport": None,
           "flags": None, "seq": None, "ack": None, "payload": None}
    if outer == "ip":
        rec["src"], rec["dst"] = first(row, "ip.src"), first(row, "ip.dst")
        rec["proto"] = num(first(row, "ip.proto"))
    elif outer == "ipv6":
        s, d = first(row, "ipv6.src"), first(row, "ipv6.dst")
        rec["src"], rec["dst"] = ipv6_text(s), ipv6_text(d)
        if rec["src"] != s or rec["dst"] != d:
            print("note: frame %s: tshark printed %s/%s, RFC 5952 gives %s/%s"
                  % (rec["n"], s, d, rec["src"], rec["dst"]), file=sys.stderr)
        nxt = num(first(row, "ipv6.nxt"))
        for _ in range(8):                       # bounded walk of the chain
            field = EXT_NXT.get(nxt)
            if field is None or first(row, field) is None:
                break
            nxt = num(first(row, field))
        rec["proto"] = nxt
    if rec["proto"] == 6 and first(row, "tcp.srcport") is not None:
        rec["sport"], rec["dport"] = num(first(row, "tcp.srcport")), num(first(row, "tcp.dstport"))
        rec["flags"] = num(first(row, "tcp.flags"))
        rec["seq"], rec["ack"] = num(first(row, "tcp.seq_raw")), num(first(row, "tcp.ack_raw"))
        rec["payload"] = num(first(row, "tcp.len"))
    elif rec["proto"] == 17 and first(row, "udp.srcport") is not None:
        rec["sport"], rec["dport"] = num(first(row, "udp.srcport")), num(first(row, "udp.dstport"))
        rec["payload"] = num(first(row, "udp.length")) - 8
    return rec


def scan_file(path):
    """Independent walk of the file: format name, link types, records, bytes."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    pcap = {b"\xd4\xc3\xb2\xa1": ("<", "pcap-us-le"), b"\xa1\xb2\xc3\xd4": (">", "pcap-us-be"),
            b"\x4d\x3c\xb2\xa1": ("<", "pcap-ns-le"), b"\xa1\xb2\x3c\x4d": (">", "pcap-ns-be")}
    if magic in pcap:
        e, fmt = pcap[magic]
        linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
        off, n, total = 24, 0, 0
        while off + 16 <= len(data):
            incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            off += 16 + incl
            n += 1
            total += incl
        if off != len(data):
            raise ValueError("%s: trailing bytes at %d" % (path, off))
        return fmt, [linktype], n, total
    if magic == b"\x0a\x0d\x0d\x0a":
        off, n, total, links, fmt, e = 0, 0, 0, [], None, "<"
        while off + 12 <= len(data):
            btype = struct.unpack(e + "I", data[off:off + 4])[0]
            if btype == 0x0A0D0D0A:
                bom = data[off + 8:off + 12]
                e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                fmt = fmt or ("pcapng-le" if e == "<" else "pcapng-be")
            blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
            body = data[off + 8:off + blen - 4]
            if btype == 1:                                   # IDB
                lt = struct.unpack(e + "H", body[0:2])[0]
                if lt not in links:
                    links.append(lt)
            elif btype in (6, 2):                            # EPB, obsolete PB
                n += 1
                total += struct.unpack(e + "I", body[12:16])[0]
            elif btype == 3:                                 # SPB
                raise ValueError("SPB not expected in bundled traces")
            off += blen
        return fmt, links, n, total
    raise ValueError("%s: unknown magic %s" % (path, magic.hex()))


def main():
    cap, tsv, dump_out, inspect_out, counts = sys.argv[1:6]
    with open(tsv, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = lines[0].split("\t")
    rows = [dict(zip(header, l.split("\t"))) for l in lines[1:] if l]
    recs = [convert(r) for r in rows]
    with open(dump_out, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")

    fmt, links, n, total = scan_file(cap)
    if n != len(recs) or total != sum(r["caplen"] for r in recs):
        raise SystemExit("%s: file walk (%d packets, %d bytes) disagrees with tshark (%d, %d)"
                         % (cap, n, total, len(recs), sum(r["caplen"] for r in recs)))
    cnt = dict(kv.split("=") for kv in counts.split(","))
    streams = {s for r in rows for s in allv(r, "tcp.stream")}
    tuples = {frozenset([(r["src"], r["sport"]), (r["dst"], r["dport"])])
              for r in recs if r["proto"] == 6 and r["sport"] is not None}
    if len(tuples) != len(streams):
        print("note: %s: %d tcp.stream values but %d distinct 4-tuples"
              % (cap, len(streams), len(tuples)), file=sys.stderr)
    inspect = {"format": fmt, "linktypes": links, "packets": len(recs),
               "bytes": total,
               "first_ts": recs[0]["ts"] if recs else None,
               "last_ts": recs[-1]["ts"] if recs else None,
               "ipv4": int(cnt["ip"]), "ipv6": int(cnt["ipv6"]),
               "tcp": int(cnt["tcp"]), "udp": int(cnt["udp"]),
               "tcp_flows": len(streams)}
    with open(inspect_out, "w", encoding="utf-8") as f:
        f.write(json.dumps(inspect, indent=2) + "\n")


if __name__ == "__main__":
    main()

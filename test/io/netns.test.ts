// Address parsing and checks behind `ixwasm tap` (no root needed).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { canonical, inBenchRange, isUla, parseCidr, sameSubnet } from "../../host/io/netns.ts";
import { checkIfname } from "../../host/io/tap.ts";

test("parseCidr: IPv4 and IPv6 with prefix, bytes in network order", () => {
  const a = parseCidr("198.18.0.2/24", 4, "--ip");
  assert.equal([...a.bytes], [198, 18, 0, 2]);
  assert.is(a.len, 24);
  const b = parseCidr("fd00:198:18::2/64", 6, "--ip6");
  assert.is(b.bytes.toString("hex"), "fd000198001800000000000000000002");
  assert.is(parseCidr("::1/128", 6, "x").bytes.toString("hex"), "0".repeat(31) + "1");
  for (const bad of ["198.18.0.2", "198.18.0.256/24", "198.18.0/24", "198.18.0.2/33", "x/24", "198.18.0.2/0"])
    assert.throws(() => parseCidr(bad, 4, "--ip"), /--ip/);
  for (const bad of ["fd00::1::2/64", "fd00:1:2:3:4:5:6:7:8/64", "fd00:12345::1/64", "fd00::g/64"])
    assert.throws(() => parseCidr(bad, 6, "--ip6"));
});

test("only 198.18.0.0/15 and unique local IPv6 are accepted", () => {
  assert.ok(inBenchRange(parseCidr("198.18.0.2/24", 4, "")));
  assert.ok(inBenchRange(parseCidr("198.19.255.1/16", 4, "")));
  assert.not.ok(inBenchRange(parseCidr("198.20.0.1/24", 4, "")));
  assert.not.ok(inBenchRange(parseCidr("10.0.0.1/8", 4, "")));
  assert.ok(isUla(parseCidr("fd00:198:18::2/64", 6, "")));
  assert.not.ok(isUla(parseCidr("2001:db8::1/64", 6, "")));
});

test("sameSubnet compares the prefix bits only", () => {
  const p = (s: string) => parseCidr(s, s.includes(":") ? 6 : 4, "");
  assert.ok(sameSubnet(p("198.18.0.2/24"), p("198.18.0.1/24")));
  assert.not.ok(sameSubnet(p("198.18.0.2/24"), p("198.18.1.1/24")));
  assert.ok(sameSubnet(p("198.18.0.2/15"), p("198.19.7.1/15")));
  assert.ok(sameSubnet(p("fd00:198:18::2/64"), p("fd00:198:18::1/64")));
});

test("canonical IPv6 text as iproute2 prints it (RFC 5952)", () => {
  assert.is(canonical("fd00:0198:0018:0:0:0:0:2"), "fd00:198:18::2");
  assert.is(canonical("fd00:0:0:1:0:0:0:2"), "fd00:0:0:1::2");
  assert.is(canonical("198.18.0.2"), "198.18.0.2");
});

test("interface names: 1 to 15 bytes, no '/', ':' or spaces", () => {
  checkIfname("ixw12345a");
  for (const bad of ["", "a".repeat(16), "a/b", "a:b", "a b", ".."]) assert.throws(() => checkIfname(bad));
});

test.run();

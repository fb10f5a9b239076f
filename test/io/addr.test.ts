import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatIPv4, formatIPv6 } from "../../host/io/addr.ts";

const v6 = (hex: string) => formatIPv6(Buffer.from(hex.replace(/:/g, ""), "hex"), 0);

test("IPv4 dotted quad", () => {
  assert.is(formatIPv4(Buffer.from([198, 18, 0, 255]), 0), "198.18.0.255");
});

test("RFC 5952 §4: canonical IPv6 text", () => {
  assert.is(v6("2001:0db8:0000:0000:0000:0000:0002:0001"), "2001:db8::2:1"); // §4.1, §4.2.1
  assert.is(v6("2001:0db8:0000:0001:0001:0001:0001:0001"), "2001:db8:0:1:1:1:1:1"); // §4.2.2: one 0 group kept
  assert.is(v6("2001:0db8:0000:0000:0001:0000:0000:0001"), "2001:db8::1:0:0:1"); // §4.2.3: first of equal runs
  assert.is(v6("2001:0000:0000:0001:0000:0000:0000:0001"), "2001:0:0:1::1"); // §4.2.3: longest run
  assert.is(v6("0000:0000:0000:0000:0000:0000:0000:0000"), "::");
  assert.is(v6("0000:0000:0000:0000:0000:0000:0000:0001"), "::1");
  assert.is(v6("fe80:0000:0000:0000:0000:0000:0000:0000"), "fe80::");
  assert.is(v6("2001:0DB8:ABCD:0012:0000:0000:0000:0000"), "2001:db8:abcd:12::"); // §4.3 lowercase
  assert.is(v6("0000:0000:0000:0000:0000:ffff:c612:0001"), "::ffff:198.18.0.1"); // §5 mixed notation
});

test.run();
